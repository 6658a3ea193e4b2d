import type { Command } from 'commander';
import type { CliRuntime } from '../../kit/module.js';
import { declareOnDispatch, optionsFrom, type OptionOverride } from '../../kit/cli/options.js';
import { emit, log } from '../../kit/cli/output.js';
import { count, phased } from '../../kit/cli/progress.js';

const fmt = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toFixed(4);

/**
 * `retain clv fit|predict|validate`: BTYD models (BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma, sBG).
 * The options come from the commands' schemas (schema.ts), declared when `retain clv` dispatches to a
 * command; the schemas and the service are imported lazily so `retain --help` stays fast. With
 * `--summary` the commands read the file and never open the store.
 */
export function registerClv(program: Command, cli: CliRuntime): void {
  const clv = program
    .command('clv')
    .description(
      'Predictive CLV: fit BTYD models, predict purchases, P(alive) and CLV, validate on a holdout',
    );

  const flags: Record<string, OptionOverride> = {
    summary: { arg: 'csv' },
    calibrationEnd: { arg: 'date' },
    holdoutEnd: { arg: 'date' },
    timeUnit: { arg: 'unit' },
    model: { arg: 'model' },
    horizon: { arg: 'n' },
    out: { arg: 'file' },
    clvMonths: { arg: 'n' },
    discountRate: { arg: 'd' },
    margin: { arg: 'm' },
  };
  declareOnDispatch(clv, async (sub) => {
    const schemas = await import('./schema.js');
    const schema = {
      fit: schemas.FitOptions,
      predict: schemas.PredictOptions,
      validate: schemas.ValidateOptions,
    }[sub.name()];
    if (schema) optionsFrom(sub, schema, flags);
  });
  /** The calibration end a command on the stored orders needs. */
  const calibrationEndOf = async (opts: { calibrationEnd?: Date | undefined }): Promise<Date> => {
    if (opts.calibrationEnd) return opts.calibrationEnd;
    const { invalid } = await import('../../shared/errors.js');
    throw invalid('--calibration-end is required when the summary is built from orders', {
      field: '--calibration-end',
    });
  };
  const warn = (warnings: readonly string[]) => {
    for (const w of warnings) log(`warning: ${w}`);
  };

  clv
    .command('fit')
    .description('Fit a model by maximum likelihood and print its parameters')
    .addHelpText(
      'after',
      `
Examples:
  $ retain clv fit --model bgnbd --summary cdnow_customers_summary.csv --json
  $ retain clv fit --model gamma-gamma --summary cdnow_customers_summary_with_monetary.csv
  $ retain clv fit --model bgnbd --calibration-end 1997-09-30 --time-unit week
  $ retain clv fit --model sbg --summary survivors.csv      (header period,alive)

JSON: {"model":"bgnbd","params":{"r":..,"alpha":..,"a":..,"b":..},"logLikelihood":..,"customers":n,"seconds":..}
Gamma-Gamma params are p,q,v (fitted on repeat buyers); Pareto/NBD r,alpha,s,beta; sBG alpha,beta.
Standard errors (observed information) are shown in the human output.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { FitOptions, parseOptions } = await import('./schema.js');
      const service = await import('./service.js');
      const opts = parseOptions(FitOptions, raw);
      const { model, summary } = opts;
      let r: Awaited<ReturnType<typeof service.fit>>;
      if (model === 'sbg') {
        if (!summary) {
          const { invalid } = await import('../../shared/errors.js');
          throw invalid('the sBG model needs --summary <csv> with header period,alive (a survivor curve)', {
            field: '--summary',
          });
        }
        const { readSurvivorCsv } = await import('./summaryCsv.js');
        r = service.fitSurvivors({ alive: readSurvivorCsv(summary) });
      } else if (summary) {
        const { readSummaryCsv } = await import('./summaryCsv.js');
        // Gamma-Gamma is fitted on repeat buyers only: the reader need not keep the other rows.
        const columns = readSummaryCsv(summary, { ids: false, repeatBuyersOnly: model === 'gamma-gamma' });
        r = service.fitSummary({ ...opts, model, summary: columns });
      } else {
        const calibrationEnd = await calibrationEndOf(opts);
        r = await phased(
          `loading orders and fitting ${model}`,
          () => cli.withContext(cmd, (ctx) => service.fit(ctx, { ...opts, model, calibrationEnd })),
          (f) => `${count(f.customers)} customers`,
        );
      }
      warn(r.warnings);
      const { fitJson } = service;
      emit(cmd, fitJson(r), () =>
        [
          `${r.model} fitted on ${r.customers} customers in ${r.seconds}s${r.converged ? '' : ' (not fully converged)'}`,
          `log-likelihood ${r.logLikelihood.toFixed(4)}`,
          ...Object.entries(r.params).map(([k, v]) => {
            const se = r.standardErrors?.[k];
            const ci = r.confidenceIntervals?.[k];
            return `  ${k.padEnd(6)} ${fmt(v)}${se !== undefined ? `  se ${fmt(se)}` : ''}${ci ? `  95% CI [${fmt(ci[0])}, ${fmt(ci[1])}]` : ''}`;
          }),
        ].join('\n'),
      );
    });

  clv
    .command('predict')
    .description('Predict purchases, P(alive) and CLV per customer')
    .addHelpText(
      'after',
      `
Examples:
  $ retain clv predict --summary cdnow_customers_summary_with_monetary.csv --horizon 39 --out preds.csv --json
  $ retain clv predict --calibration-end 2011-12-09 --horizon 12 --out preds.csv --details
  $ retain clv predict --model pareto-nbd --calibration-end 2011-12-09 --horizon 13 --out preds.csv

Without --model the purchase model is chosen by holdout fit: the last quarter of the history (4 to 52
weeks) is held out, MBG/NBD and Pareto/NBD (and BG/NBD, for reference: it gives one-time buyers
P(alive) = 1) are fitted on the weeks before and scored on it, and the best is refitted on the whole
history. With too short a history (or --summary) MBG/NBD is used; the output says which and why.
CSV: customer_id,expected_purchases,p_alive,clv (clv empty without a monetary_value column;
churn risk is 1 − p_alive). JSON: {"customers":n,"expectedPurchasesTotal":x,"model","params",
"logLikelihood","spendParams","spendLogLikelihood","clvTotal","newCustomerExpectedPurchases","churnRisk":{"median","oneTimeBuyers"},
"selection":{"method","holdout","candidates":[{"model","role","holdout":{"mae",..},..}],"chosen","reason"},
"warnings","seconds"}
--details adds churn_risk, expected_spend (per future order), next_order_in (median time to the next
order, in time units; empty when it more likely never comes) and next_order_date (as of
--calibration-end). Predictions from stored orders are stored per customer with these details.
CLV = margin × E[spend] (Gamma-Gamma) × Σ_months ΔE[purchases] / (1 + d)^month, as lifetimes.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { PredictOptions, parseOptions } = await import('./schema.js');
      const service = await import('./service.js');
      const { summary, out, ...opts } = parseOptions(PredictOptions, raw);
      let r: Awaited<ReturnType<typeof service.predict>>;
      if (summary) {
        // A summary file's customers may be unknown to the store: its predictions go to --out only.
        const { readSummaryCsv } = await import('./summaryCsv.js');
        const columns = readSummaryCsv(summary, { ids: true, repeatBuyersOnly: false });
        r = service.predictSummary({ ...opts, summary: columns });
      } else {
        // Predictions from stored orders are stored (as of the calibration end) with the details.
        const calibrationEnd = await calibrationEndOf(opts);
        r = await phased(
          'loading orders, fitting and predicting',
          () => cli.withContext(cmd, (ctx) => service.predict(ctx, { ...opts, calibrationEnd })),
          (p) => `${count(p.customers)} customers`,
        );
      }
      warn(r.warnings);
      if (!r.spendParams) log('note: no monetary_value column, so the clv column is left empty');
      if (out) {
        const { writePredictionsCsv } = await import('./predictionsCsv.js');
        await writePredictionsCsv(out, r.predictions, opts.details || !summary);
      }
      const pc = (v: number) => `${(100 * v).toFixed(v < 0.001 && v > 0 ? 4 : 1)}%`;
      const sel = r.selection;
      const o = r.churnRisk.oneTimeBuyers;
      emit(cmd, service.predictJson(r), () =>
        [
          `${r.model} on ${r.customers} customers (${r.seconds}s): ${r.expectedPurchasesTotal.toFixed(1)} purchases expected`,
          `  model: ${r.model} (${sel.method === 'holdout' ? 'chosen by holdout fit' : sel.method === 'default' ? 'the default' : '--model'})`,
          ...(sel.candidates.length
            ? [
                `  held out the ${sel.holdout!.weeks} weeks after ${sel.holdout!.calibrationEnd} (to ${sel.holdout!.holdoutEnd}; ${sel.holdout!.purchases} purchases):`,
                '    model        role        MAE     total error  dropout on the whole history',
                ...sel.candidates.map(
                  (c) =>
                    `    ${c.model.padEnd(11)}  ${c.role.padEnd(9)}  ${c.holdout.mae.toFixed(3).padStart(6)}  ${(c.holdout.totalErrorPct === null ? 'n/a' : `${c.holdout.totalErrorPct.toFixed(1)}%`).padStart(11)}  ${c.wholePeriod === null ? '—' : c.wholePeriod.dropoutIdentified ? 'estimated' : 'ran off to 0'}`,
                ),
              ]
            : []),
          `  why: ${sel.reason}`,
          `  churn risk (1 − P(alive)): median ${pc(r.churnRisk.median)} over ${r.churnRisk.customers} customers` +
            (o
              ? `; ${o.customers} one-time buyers ${pc(o.min)} … ${pc(o.max)} (median ${pc(o.median)})`
              : ''),
          ...(r.churnRisk.note ? [`  note: ${r.churnRisk.note}`] : []),
          `  a new customer: ${r.newCustomerExpectedPurchases.toFixed(3)} purchases expected over the horizon`,
          `  params ${Object.entries(r.params)
            .map(([k, v]) => `${k}=${fmt(v)}`)
            .join(' ')}`,
          ...(r.spendParams
            ? [
                `  spend  ${Object.entries(r.spendParams)
                  .map(([k, v]) => `${k}=${fmt(v)}`)
                  .join(' ')}; CLV total ${r.clvTotal}`,
              ]
            : []),
          ...(out ? [`  wrote ${out}`] : []),
        ].join('\n'),
      );
    });

  clv
    .command('validate')
    .description('Fit on the calibration period and compare with the holdout')
    .addHelpText(
      'after',
      `
Examples:
  $ retain clv validate --calibration-end 1997-09-30 --holdout-end 1998-06-30 --json
  $ retain clv validate --summary calib_holdout.csv      (adds frequency_holdout,duration_holdout)

JSON: {"model","params","holdoutDuration","customers","mae","rmse","correlation","totalActual",
"totalPredicted","totalErrorPct","byFrequency":[{"frequency":"0".."7+","customers","meanActual",
"meanPredicted"}],"sufficiency":{"verdict","messages"},"seconds"}`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { ValidateOptions, parseOptions } = await import('./schema.js');
      const service = await import('./service.js');
      const { summary, holdoutEnd, ...opts } = parseOptions(ValidateOptions, raw);
      let r: Awaited<ReturnType<typeof service.validate>>;
      if (summary) {
        const { readSummaryCsv } = await import('./summaryCsv.js');
        const columns = readSummaryCsv(summary, { ids: false, repeatBuyersOnly: false });
        r = service.validateSummary({ ...opts, summary: columns });
      } else {
        const { invalid } = await import('../../shared/errors.js');
        if (!holdoutEnd) throw invalid('--holdout-end is required', { field: '--holdout-end' });
        const calibrationEnd = await calibrationEndOf(opts);
        r = await phased(
          'loading orders, fitting on the calibration period and predicting the holdout',
          () => cli.withContext(cmd, (ctx) => service.validate(ctx, { ...opts, calibrationEnd, holdoutEnd })),
          (v) => `${count(v.customers)} customers`,
        );
      }
      warn([...r.sufficiency.messages, ...r.warnings]);
      emit(cmd, r, () =>
        [
          `${r.model} validated on ${r.customers} customers, holdout ${r.holdoutDuration} time units (${r.seconds}s)`,
          `  total actual ${r.totalActual}, predicted ${r.totalPredicted.toFixed(1)}` +
            (r.totalErrorPct === null ? '' : ` (${r.totalErrorPct.toFixed(1)}%)`),
          `  MAE ${r.mae.toFixed(4)}  RMSE ${r.rmse.toFixed(4)}  correlation ${r.correlation === null ? 'n/a' : r.correlation.toFixed(4)}`,
          '  calibration x   customers   mean actual   mean predicted',
          ...r.byFrequency.map(
            (b) =>
              `  ${b.frequency.padStart(13)}   ${String(b.customers).padStart(9)}   ${b.meanActual.toFixed(3).padStart(11)}   ${b.meanPredicted.toFixed(3).padStart(14)}`,
          ),
          ...r.sufficiency.messages.map((m) => `  warning: ${m}`),
        ].join('\n'),
      );
    });
}
