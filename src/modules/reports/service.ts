import { summarize } from '../../analytics/metrics/summary.js';
import { AppError, invalid } from '../../shared/errors.js';
import { minorDigits, minorToDecimal } from '../../shared/money.js';
import { parseDay } from '../../shared/time.js';
import type { Database } from '../../storage/port.js';
import * as repo from './repository.js';

const DAY_MS = 86_400_000;

/** Report context: the store currency and the explicit `asOf` (exclusive) every report runs at. */
export interface ReportContext {
  currency: string;
  asOf: Date;
  /** `YYYY-MM-DD` the user asked for (inclusive), or the last order day. */
  asOfDay: string;
}

/**
 * Resolves `--as-of YYYY-MM-DD` (inclusive: the whole day counts) into the exclusive instant
 * reports cut at; without it, the day of the last order.
 */
export async function reportContext(db: Database, asOfText?: string): Promise<ReportContext> {
  const facts = await repo.storeFacts(db);
  if (!facts.lastOrderAt || !facts.currency)
    throw new AppError('not_found', 'the store has no orders yet: run `retain import orders <file>` first');
  let day: Date;
  if (asOfText !== undefined) {
    const d = parseDay(asOfText);
    if (!d) throw invalid(`expected --as-of YYYY-MM-DD, got '${asOfText}'`, { field: '--as-of' });
    day = d;
  } else {
    day = new Date(
      Date.UTC(
        facts.lastOrderAt.getUTCFullYear(),
        facts.lastOrderAt.getUTCMonth(),
        facts.lastOrderAt.getUTCDate(),
      ),
    );
  }
  return {
    currency: facts.currency,
    asOf: new Date(day.getTime() + DAY_MS),
    asOfDay: day.toISOString().slice(0, 10),
  };
}

/** The `report summary` JSON contract: money as decimals in the store currency. */
export interface SummaryOutput {
  report: 'summary';
  asOf: string;
  currency: string;
  customers: number;
  orders: number;
  grossRevenue: number;
  refunds: number;
  netRevenue: number;
  aov: number | null;
  ordersPerCustomer: number | null;
  repeatCustomerRate: number | null;
  avgLifespanDays: number | null;
  guestOrders: number;
  /** Field → anchor in docs/metrics.md. */
  definitions: Record<string, string>;
}

const round = (x: number | null, digits: number) => (x === null ? null : Number(x.toFixed(digits)));

export async function summaryReport(db: Database, asOfText?: string): Promise<SummaryOutput> {
  const ctx = await reportContext(db, asOfText);
  const input = await repo.customerAggregates(db, ctx.asOf, ctx.currency);
  const s = summarize({ ...input, asOf: ctx.asOf });
  const digits = minorDigits(ctx.currency);
  const money = (m: number) => minorToDecimal(m, digits);
  return {
    report: 'summary',
    asOf: ctx.asOfDay,
    currency: ctx.currency,
    customers: s.customers,
    orders: s.orders,
    grossRevenue: money(s.grossRevenueMinor),
    refunds: money(s.refundsMinor),
    netRevenue: money(s.netRevenueMinor),
    aov: s.aovMinor === null ? null : round(s.aovMinor / 10 ** digits, digits),
    ordersPerCustomer: round(s.ordersPerCustomer, 4),
    repeatCustomerRate: round(s.repeatCustomerRate, 4),
    avgLifespanDays: round(s.avgLifespanDays, 2),
    guestOrders: s.guestOrders,
    definitions: Object.fromEntries(
      Object.entries(s.definitions).map(([k, v]) => [
        k.replace(/Minor$/, '').replace(/^refunds$/, 'refunds'),
        v,
      ]),
    ),
  };
}
