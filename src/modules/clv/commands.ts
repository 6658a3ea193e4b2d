import type { Command } from 'commander';
import type { ClvStorage } from './repository.js';
import type { ClvDeps } from './service.js';
import { emit, globalsOf, log } from '../../kit/cli/output.js';

const fmt = (v: number) =>
  Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(4) : v.toFixed(4);

/**
 * `retain clv fit|predict|validate`: BTYD models (BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma, sBG).
 * The service is imported lazily so `retain --help` stays fast. `storage` reaches the imported
 * orders and stores predictions; without it the commands work from `--summary` files.
 */
export function registerClv(program: Command, storage: ClvStorage = {}): void {
  const clv = program
    .command('clv')
    .description(
      'Predictive CLV: fit BTYD models, predict purchases, P(alive) and CLV, validate on a holdout',
    );

  const depsOf = (cmd: Command): ClvDeps => {
    const g = globalsOf(cmd);
    return { ...storage, target: { db: g.db, databaseUrl: g.databaseUrl }, log };
  };
  const common = (cmd: Command): Command =>
    cmd
      .option(
        '--summary <csv>',
        'summary CSV: customer_id,frequency,recency,T[,monetary_value] (times in model units)',
      )
      .option(
        '--calibration-end <date>',
        'last calibration day YYYY-MM-DD (summary built from stored orders)',
      )
      .option('--time-unit <unit>', 'day or week (week = days/7)', 'week')
      .option('--force', 'fit even when the data-sufficiency check refuses');

  common(clv.command('fit').description('Fit a model by maximum likelihood and print its parameters'))
    .requiredOption('--model <model>', 'bgnbd, pareto-nbd, mbgnbd, gamma-gamma or sbg')
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
      const { fitJson, runFit } = await import('./service.js');
      const r = await runFit(parseOptions(FitOptions, raw), depsOf(cmd));
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

  common(clv.command('predict').description('Predict purchases, P(alive) and CLV per customer'))
    .option('--model <model>', 'bgnbd, pareto-nbd or mbgnbd', 'bgnbd')
    .requiredOption('--horizon <n>', 'prediction horizon in time units')
    .option('--out <file>', 'write customer_id,expected_purchases,p_alive,clv')
    .option('--details', 'add churn_risk,expected_spend,next_order_in,next_order_date to --out')
    .option('--clv-months <n>', 'CLV horizon in months', '12')
    .option('--discount-rate <d>', 'monthly discount rate for CLV', '0.01')
    .option('--margin <m>', 'profit margin applied to CLV, in (0, 1]', '1')
    .addHelpText(
      'after',
      `
Examples:
  $ retain clv predict --summary cdnow_customers_summary_with_monetary.csv --horizon 39 --out preds.csv --json
  $ retain clv predict --model pareto-nbd --calibration-end 2011-09-30 --horizon 13 --time-unit week --out preds.csv

CSV: customer_id,expected_purchases,p_alive,clv (clv empty without a monetary_value column;
churn risk is 1 − p_alive). JSON: {"customers":n,"expectedPurchasesTotal":x}
--details adds churn_risk, expected_spend (per future order), next_order_in (median time to the next
order, in time units; empty when it more likely never comes) and next_order_date (as of
--calibration-end). Predictions from stored orders are stored per customer with these details.
CLV = margin × E[spend] (Gamma-Gamma) × Σ_months ΔE[purchases] / (1 + d)^month, as lifetimes.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { PredictOptions, parseOptions } = await import('./schema.js');
      const { runPredict } = await import('./service.js');
      const r = await runPredict(parseOptions(PredictOptions, raw), depsOf(cmd));
      emit(cmd, { customers: r.customers, expectedPurchasesTotal: r.expectedPurchasesTotal }, () =>
        [
          `${r.model} on ${r.customers} customers (${r.seconds}s): ${r.expectedPurchasesTotal.toFixed(1)} purchases expected`,
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
          ...(r.out ? [`  wrote ${r.out}`] : []),
        ].join('\n'),
      );
    });

  common(clv.command('validate').description('Fit on the calibration period and compare with the holdout'))
    .option('--model <model>', 'bgnbd, pareto-nbd or mbgnbd', 'bgnbd')
    .option('--holdout-end <date>', 'last holdout day YYYY-MM-DD')
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
      const { runValidate } = await import('./service.js');
      const r = await runValidate(parseOptions(ValidateOptions, raw), depsOf(cmd));
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
