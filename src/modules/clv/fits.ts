/**
 * Fitting a purchase (transaction) model by name, and what a fit's diagnostics mean in plain words.
 * Shared by the services (fit, predict, validate) and the model selection.
 */
import { fitBgNbd, bgNbdModel } from '../../analytics/btyd/bgnbd.js';
import { fitMbgNbd, mbgNbdModel } from '../../analytics/btyd/mbgnbd.js';
import type { FitResult, TransactionModel } from '../../analytics/btyd/model.js';
import { fitParetoNbd, paretoNbdModel } from '../../analytics/btyd/paretoNbd.js';
import type { RfData } from '../../analytics/btyd/summary.js';
import type { Model, TransactionModelName } from './schema.js';

export type AnyFit = FitResult<Record<string, number>>;

/** Fits a purchase model to compressed (x, t_x, T) data. */
export function fitTransactionModel(
  name: TransactionModelName,
  data: RfData,
): { fit: AnyFit; model: TransactionModel } {
  switch (name) {
    case 'bgnbd': {
      const fit = fitBgNbd(data);
      return { fit, model: bgNbdModel(fit.params) };
    }
    case 'pareto-nbd': {
      const fit = fitParetoNbd(data);
      return { fit, model: paretoNbdModel(fit.params) };
    }
    case 'mbgnbd': {
      const fit = fitMbgNbd(data);
      return { fit, model: mbgNbdModel(fit.params) };
    }
  }
}

/** The store owner's names of the purchase models. */
export const MODEL_LABEL: Record<TransactionModelName, string> = {
  bgnbd: 'BG/NBD',
  'pareto-nbd': 'Pareto/NBD',
  mbgnbd: 'MBG/NBD',
};

/** The parameters of each purchase model that describe how customers drop out. */
export const DROPOUT_PARAMS: Record<TransactionModelName, readonly string[]> = {
  bgnbd: ['a', 'b'],
  mbgnbd: ['a', 'b'],
  'pareto-nbd': ['s', 'beta'],
};

/** Whether a fit pinned down dropout: converged, and no dropout parameter ran off towards 0 or ∞. */
export function dropoutIdentified(name: TransactionModelName, fit: AnyFit): boolean {
  return fit.converged && !fit.runaway.some((p) => DROPOUT_PARAMS[name].includes(p));
}

const DROPOUT = 'the history shows too little dropout to estimate how customers leave';
const SAME_RATE = 'purchase rates look the same for every customer (no heterogeneity to estimate)';
/** What a runaway parameter means, per purchase model. */
const RUNAWAY_MEANING: Partial<Record<Model, [params: string[], meaning: string][]>> = {
  bgnbd: [
    [['a', 'b'], DROPOUT],
    [['r', 'alpha'], SAME_RATE],
  ],
  mbgnbd: [
    [['a', 'b'], DROPOUT],
    [['r', 'alpha'], SAME_RATE],
  ],
  'pareto-nbd': [
    [['s', 'beta'], DROPOUT],
    [['r', 'alpha'], SAME_RATE],
  ],
};

/** Plain-language warnings for a fit that did not converge or whose parameters ran off to 0 or ∞. */
export function fitWarnings(model: Model, fit: AnyFit): string[] {
  if (fit.runaway.length > 0) {
    const meanings = (RUNAWAY_MEANING[model] ?? [])
      .filter(([params]) => params.some((k) => fit.runaway.includes(k)))
      .map(([, meaning]) => meaning);
    return [
      `${model}: ${fit.runaway.join(', ')} ran off towards 0 or ∞ (the data do not pin them down)` +
        (meanings.length ? ` — ${meanings.join('; ')}` : '') +
        '. The fit is the limiting model; collect a longer history or use a simpler model before relying on it.',
    ];
  }
  if (!fit.converged)
    return [`${model}: the optimiser stopped before meeting its tolerance; estimates may be imprecise`];
  return [];
}
