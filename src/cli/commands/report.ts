import type { Command } from 'commander';
import type { SummaryOutput } from '../../modules/reports/service.js';
import { withDatabase } from '../db.js';
import { money, percent, table } from '../format.js';
import { emit } from '../output.js';

/** The headline table `report summary` and `demo` print. */
export function describeSummary(s: SummaryOutput): string {
  return table(
    ['metric', 'value'],
    [
      ['as of (inclusive)', s.asOf],
      ['customers (≥1 order)', s.customers],
      ['orders', s.orders],
      ['gross revenue', money(s.grossRevenue, s.currency)],
      ['refunds', money(s.refunds, s.currency)],
      ['net revenue', money(s.netRevenue, s.currency)],
      ['average order value', money(s.aov, s.currency)],
      ['orders per customer', s.ordersPerCustomer],
      ['repeat customer rate', percent(s.repeatCustomerRate)],
      ['average lifespan (days)', s.avgLifespanDays],
      ['guest orders (not in figures above)', s.guestOrders],
    ],
  );
}

export function registerReport(program: Command): Command {
  const report = program
    .command('report')
    .description('analytics reports (see docs/metrics.md for every definition)');
  report
    .command('summary')
    .description('headline figures: customers, orders, revenue, refunds, AOV, repeat rate, lifespan')
    .option('--as-of <YYYY-MM-DD>', 'count data up to and including this day (default: the last order day)')
    .addHelpText('after', '\nExample:\n  $ retain report summary --as-of 2011-12-09 --json')
    .action(async (opts: { asOf?: string }, cmd: Command) => {
      const { summaryReport } = await import('../../modules/reports/service.js');
      const s = await withDatabase(cmd, (db) => summaryReport(db, opts.asOf));
      emit(cmd, s, () => describeSummary(s));
    });
  return report;
}
