import type { Command } from 'commander';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';

/** `retain subscriptions report …` (docs/subscriptions.md#reports). */
export function registerSubscriptionReportCommands(subscriptions: Command, cli: CliRuntime): void {
  subscriptions
    .command('report')
    .description(
      'MRR and its movements by month, churn and retention by start cohort with the sBG forecast, cancel reasons, subscribers vs one-off buyers',
    )
    .option(
      '--from <month>',
      'first month, YYYY-MM in the store time zone (default: the first subscription’s)',
    )
    .option('--to <month>', 'last month, YYYY-MM (default: the current month)')
    .option('--plan <name>', 'one plan (default: every plan)')
    .option('--train <months>', 'months the forecast-vs-actual model is fitted on', '12')
    .option(
      '--ltv-months <months>',
      'months after the start over which subscribers and one-off buyers are compared',
      '12',
    )
    .action(
      async (
        o: { from?: string; to?: string; plan?: string; train: string; ltvMonths: string },
        cmd: Command,
      ) => {
        const { subscriptionReport, subscriptionReportMarkdown } = await import('./reports.js');
        const r = await cli.withContext(cmd, (ctx) =>
          subscriptionReport(ctx, {
            ...(o.from !== undefined ? { from: o.from } : {}),
            ...(o.to !== undefined ? { to: o.to } : {}),
            ...(o.plan !== undefined ? { plan: o.plan } : {}),
            train: o.train,
            ltvMonths: o.ltvMonths,
          }),
        );
        emit(cmd, r, () => subscriptionReportMarkdown(r));
      },
    );
}
