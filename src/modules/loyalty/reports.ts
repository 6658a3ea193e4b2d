import { z } from '@hono/zod-openapi';
import { calendarOf, type Calendar } from '../../analytics/calendar.js';
import {
  membersVsNonMembers,
  type CustomerHistory,
  type MatchedOutcome,
  type MembersVsNonMembersReport,
  type OutcomeComparison,
} from '../../analytics/loyalty/membersVsNonMembers.js';
import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { minorDigits } from '../../shared/money.js';
import { formatMoney } from '../reports/digestFormat.js';
import { getStore } from '../settings/service.js';
import * as repo from './reportsRepository.js';
import { currentProgram } from './service.js';

/**
 * The loyalty programme's report (`loyaltyReport(ctx, input)`; Markdown by {@link loyaltyReportMarkdown}):
 * what the points outstanding are worth (the liability), how points flowed month by month, who
 * redeems, the members, and whether members buy more than comparable non-members (the matched
 * comparison of src/analytics/loyalty/membersVsNonMembers.ts with a plain-language verdict).
 *
 * Months are cut in the store time zone; the period is `[from, to)`. Point values are exact integers
 * of minor units: floor(points × pointValue.minor / pointValue.points), each figure from its own
 * points (so a total can exceed the sum of its floored parts by less than one minor unit per part).
 */

// ---- input ------------------------------------------------------------------------------------

export const LoyaltyReportInput = z.object({
  from: z.iso
    .datetime({ offset: true, error: 'expected an ISO instant such as 2025-03-01T00:00:00Z' })
    .optional()
    .describe('start of the period, an ISO instant (inclusive; default: 12 months before --to)'),
  to: z.iso
    .datetime({ offset: true, error: 'expected an ISO instant such as 2026-03-01T00:00:00Z' })
    .optional()
    .describe('end of the period, an ISO instant (exclusive; default: now)'),
  windowDays: z.coerce
    .number()
    .int('expected a whole number of days')
    .min(1, 'expected at least 1 day')
    .max(3650, 'expected at most 3650 days')
    .default(180)
    .describe('days after joining over which members and non-members are compared (default: 180)'),
});
export type LoyaltyReportInput = z.input<typeof LoyaltyReportInput>;

// ---- output -----------------------------------------------------------------------------------

/** Points that expire in one month (store time zone), and their value. */
export interface LiabilityMonth {
  /** `YYYY-MM` of the grants' expiry. */
  month: string;
  /** Spendable now. */
  availablePoints: number;
  /** Still in the return window (spendable once released, unless clawed back). */
  pendingPoints: number;
  /** availablePoints + pendingPoints. */
  points: number;
  valueMinor: number;
}

export interface LoyaltyLiability {
  /** The instant the balances are taken at (now). */
  asOf: string;
  /** Σ remaining of the grants spendable now (not expired). */
  availablePoints: number;
  /** Points members owe after clawbacks beyond their balance (deducted from the outstanding total). */
  debtPoints: number;
  /** availablePoints − debtPoints: what members can spend now, net of what they owe. */
  outstandingPoints: number;
  outstandingValueMinor: number;
  /** Σ remaining of the grants still in their return window. */
  pendingPoints: number;
  pendingValueMinor: number;
  /** outstandingPoints + pendingPoints. */
  totalPoints: number;
  totalValueMinor: number;
  /** Available and pending points by month of expiry (gross: debt is not allotted to a month). */
  byExpiryMonth: LiabilityMonth[];
}

/** Points moved by the ledger in a month or the period (entries by occurred_at), and the sales beside them. */
export interface FlowFigures {
  /** Points credited by orders and bonuses (earn entries; positive adjustments are in `adjusted`). */
  earned: number;
  /** Of `earned`: on orders. */
  earnedOnOrders: number;
  /** Of `earned`: welcome, birthday and action bonuses. */
  earnedBonuses: number;
  /** Pending points that became spendable. */
  released: number;
  /** Points spent on redemptions (including redemptions later reversed). */
  redeemed: number;
  /** Points given back by reversed redemptions. */
  reversed: number;
  /** Points that expired unspent. */
  expired: number;
  /** Points taken back after refunds (pending and available; a shortfall left as debt included). */
  clawedBack: number;
  /** Manual adjustments, net (additions − deductions). */
  adjusted: number;
  /** Net sales (order totals − their refunds) of sale orders in the programme currency placed in the month. */
  netSalesMinor: number;
  /** Of netSalesMinor: orders placed by members (enrolled at or before the order). */
  memberNetSalesMinor: number;
  /** Points earned on orders per one currency unit of members' net sales (null without such sales). */
  earnRate: number | null;
}

export interface FlowMonth extends FlowFigures {
  /** `YYYY-MM` in the store time zone. */
  month: string;
}

export interface LoyaltyFlows {
  months: FlowMonth[];
  totals: FlowFigures;
  /** redeemed / earned over the period (null when nothing was earned). */
  burnRate: number | null;
  /** expired / earned over the period (null when nothing was earned). */
  expiryRate: number | null;
}

export interface LoyaltyRedemptionStats {
  /** Redemptions created in the period (also those reversed since). */
  count: number;
  points: number;
  valueMinor: number;
  /** Of them, reversed since (a cancelled order, an unused code). */
  reversedCount: number;
  reversedPoints: number;
  reversedValueMinor: number;
  /** Members enrolled before the end of the period. */
  members: number;
  /** Members with at least one redemption in the period that was not reversed. */
  membersRedeemed: number;
  /** membersRedeemed / members (null without members). */
  shareOfMembers: number | null;
  /** Members with at least one sale order in the period. */
  activeMembers: number;
  /** Active members with at least one redemption in the period that was not reversed. */
  activeMembersRedeemed: number;
  /** activeMembersRedeemed / activeMembers (null without active members). */
  shareOfActiveMembers: number | null;
}

export interface LoyaltyMemberCounts {
  /** Members now. */
  total: number;
  /** By current tier (null: no tier), the programme's tiers from the lowest. */
  byTier: { tier: string | null; members: number }[];
  /** Members who enrolled in the period. */
  enrolledInPeriod: number;
}

export interface LoyaltyReport {
  definition: 'loyalty.report';
  /** The report's instant (the clock's now). */
  generatedAt: string;
  /** The period `[from, to)`. */
  from: string;
  to: string;
  timeZone: string;
  currency: string;
  minorDigits: number;
  programVersion: number;
  /** What points are worth: `minor` minor units per `points` points. */
  pointValue: { points: number; minor: number };
  liability: LoyaltyLiability;
  flows: LoyaltyFlows;
  redemption: LoyaltyRedemptionStats;
  members: LoyaltyMemberCounts;
  /** The matched comparison as computed (asOf = now), with a plain-language verdict. */
  membersVsNonMembers: MembersVsNonMembersReport & { verdict: string };
  /** Definitions and caveats of the figures above. */
  notes: string[];
}

// ---- the service ------------------------------------------------------------------------------

/** floor(points × minor / per), exactly (BigInt: no rounding on large balances). */
export function pointsValueMinor(points: number, pointValue: { points: number; minor: number }): number {
  const num = BigInt(points) * BigInt(pointValue.minor);
  const den = BigInt(pointValue.points);
  let q = num / den;
  if (num % den !== 0n && num < 0n) q -= 1n;
  return Number(q);
}

const monthLabel = (index: number): string => {
  const y = Math.floor(index / 12);
  const m = index - y * 12 + 1;
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}`;
};

function monthsBefore(d: Date, months: number): Date {
  const x = new Date(d.getTime());
  x.setUTCMonth(x.getUTCMonth() - months);
  return x;
}

const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

function emptyFlows(): FlowFigures {
  return {
    earned: 0,
    earnedOnOrders: 0,
    earnedBonuses: 0,
    released: 0,
    redeemed: 0,
    reversed: 0,
    expired: 0,
    clawedBack: 0,
    adjusted: 0,
    netSalesMinor: 0,
    memberNetSalesMinor: 0,
    earnRate: null,
  };
}

/** Adds one ledger aggregate (an entry type and grant kind) to a month's figures. */
function addEntry(f: FlowFigures, r: repo.EntryFlowRow): void {
  const both = r.pending + r.available;
  switch (r.type) {
    case 'earn':
      if (r.kind === 'adjust') f.adjusted += both;
      else {
        f.earned += both;
        if (r.kind === 'order') f.earnedOnOrders += both;
        else f.earnedBonuses += both;
      }
      break;
    case 'release':
      f.released += r.available;
      break;
    case 'redeem':
      f.redeemed -= r.available;
      break;
    case 'reverse':
      f.reversed += r.available;
      break;
    case 'expire':
      f.expired -= r.available;
      break;
    case 'clawback':
      f.clawedBack -= both;
      break;
    case 'adjust':
      f.adjusted += both;
      break;
  }
}

/**
 * `loyaltyReport(ctx, input)`: the programme's liability, flows, redemptions, members and the
 * members-vs-non-members comparison over `[from, to)` (default: the 12 months to now). Refused when
 * no programme is set (409) or the period is empty (400).
 */
export async function loyaltyReport(ctx: ModuleContext, input: unknown): Promise<LoyaltyReport> {
  const parsed = LoyaltyReportInput.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'loyalty report');
  const q = parsed.data;
  const program = await currentProgram(ctx);
  if (!program)
    throw new AppError(
      'conflict',
      'no loyalty programme is set: `retain loyalty program set --file program.json` or PUT /v1/loyalty/program',
    );
  const now = ctx.clock.now();
  const to = q.to ? new Date(q.to) : now;
  const from = q.from ? new Date(q.from) : monthsBefore(to, 12);
  if (from.getTime() >= to.getTime())
    throw new AppError(
      'validation',
      `the period is empty: from (${from.toISOString()}) must be before to (${to.toISOString()})`,
      {
        where: { field: 'from' },
      },
    );
  const store = await getStore(ctx);
  const cal = calendarOf(store.timeZone);
  const currency = program.currency;
  const pointValue = program.config.pointValue;

  const [liability, flows, redemption, members, comparison] = await Promise.all([
    liabilityOf(ctx, now, cal, pointValue),
    flowsOf(ctx, { from, to, now, cal, currency, digits: minorDigits(currency) }),
    redemptionOf(ctx, { from, to, currency }),
    membersOf(ctx, from, to, program.config.tiers.levels),
    comparisonOf(ctx, now, currency, q.windowDays),
  ]);
  const digits = minorDigits(currency);
  return {
    definition: 'loyalty.report',
    generatedAt: now.toISOString(),
    from: from.toISOString(),
    to: to.toISOString(),
    timeZone: cal.zone,
    currency,
    minorDigits: digits,
    programVersion: program.version,
    pointValue: { points: pointValue.points, minor: pointValue.minor },
    liability,
    flows,
    redemption,
    members,
    membersVsNonMembers: { ...comparison, verdict: membersVerdict(comparison, currency, digits) },
    notes: [
      `Point values are whole minor units rounded down: floor(points × ${pointValue.minor} / ${pointValue.points}), each figure from its own points.`,
      'Liability is taken at the report instant: a grant past its expiry counts as expired and a pending grant past its release as available even if the hourly sweep has not recorded it yet. Points members owe (clawbacks beyond their balance) are deducted from the outstanding total, not from any expiry month.',
      `Flows are the ledger entries by the instant they concern (an order's points at the order, a release or an expiry at its due instant), in ${cal.zone} months; a release or expiry appears once the sweep has recorded it. Burn rate = redeemed / earned and expiry rate = expired / earned over the period; reversals are shown apart.`,
      'Net sales: order totals minus their refunds, sale orders in the programme currency; members’ net sales are the orders placed at or after the customer enrolled. Earn rate: points earned on orders per one currency unit of members’ net sales; a refund lowers the net sales of its order’s month while its clawback shows in the refund’s month.',
      'Redemption shares count redemptions that were not reversed; active members are members with a sale order in the period.',
    ],
  };
}

async function liabilityOf(
  ctx: ModuleContext,
  now: Date,
  cal: Calendar,
  pointValue: { points: number; minor: number },
): Promise<LoyaltyLiability> {
  const [rows, debt] = await Promise.all([
    repo.openGrantsByExpiryMonth(ctx.db, now, cal),
    repo.totalDebt(ctx.db),
  ]);
  let available = 0;
  let pending = 0;
  const byExpiryMonth: LiabilityMonth[] = rows.map((r) => {
    available += r.available;
    pending += r.pending;
    const points = r.available + r.pending;
    return {
      month: monthLabel(r.month),
      availablePoints: r.available,
      pendingPoints: r.pending,
      points,
      valueMinor: pointsValueMinor(points, pointValue),
    };
  });
  const outstanding = available - debt;
  return {
    asOf: now.toISOString(),
    availablePoints: available,
    debtPoints: debt,
    outstandingPoints: outstanding,
    outstandingValueMinor: pointsValueMinor(outstanding, pointValue),
    pendingPoints: pending,
    pendingValueMinor: pointsValueMinor(pending, pointValue),
    totalPoints: outstanding + pending,
    totalValueMinor: pointsValueMinor(outstanding + pending, pointValue),
    byExpiryMonth,
  };
}

async function flowsOf(
  ctx: ModuleContext,
  q: { from: Date; to: Date; now: Date; cal: Calendar; currency: string; digits: number },
): Promise<LoyaltyFlows> {
  const first = q.cal.monthIndexOfMs(q.from.getTime());
  const last = q.cal.monthIndexOfMs(q.to.getTime() - 1);
  const months: FlowMonth[] = [];
  for (let m = first; m <= last; m++) months.push({ month: monthLabel(m), ...emptyFlows() });
  const [entries, sales] = await Promise.all([
    repo.entryFlows(ctx.db, q.from, q.to, q.cal),
    repo.netSalesByMonth(ctx.db, {
      asOf: q.now,
      currency: q.currency,
      from: q.from,
      to: q.to,
      cal: q.cal,
    }),
  ]);
  const at = (m: number): FlowMonth | undefined => months[m - first];
  for (const r of entries) {
    const f = at(r.month);
    if (f) addEntry(f, r);
  }
  for (const r of sales) {
    const f = at(r.month);
    if (!f) continue;
    f.netSalesMinor += r.net;
    f.memberNetSalesMinor += r.member_net;
  }
  const totals = emptyFlows();
  const unit = 10 ** q.digits;
  for (const f of months) {
    f.earnRate = f.memberNetSalesMinor > 0 ? f.earnedOnOrders / (f.memberNetSalesMinor / unit) : null;
    for (const k of [
      'earned',
      'earnedOnOrders',
      'earnedBonuses',
      'released',
      'redeemed',
      'reversed',
      'expired',
      'clawedBack',
      'adjusted',
      'netSalesMinor',
      'memberNetSalesMinor',
    ] as const)
      totals[k] += f[k];
  }
  totals.earnRate =
    totals.memberNetSalesMinor > 0 ? totals.earnedOnOrders / (totals.memberNetSalesMinor / unit) : null;
  return {
    months,
    totals,
    burnRate: ratio(totals.redeemed, totals.earned),
    expiryRate: ratio(totals.expired, totals.earned),
  };
}

async function redemptionOf(
  ctx: ModuleContext,
  q: { from: Date; to: Date; currency: string },
): Promise<LoyaltyRedemptionStats> {
  const [t, a] = await Promise.all([
    repo.redemptionTotals(ctx.db, q.from, q.to),
    repo.activeMemberCounts(ctx.db, q),
  ]);
  return {
    count: t.count,
    points: t.points,
    valueMinor: t.value_minor,
    reversedCount: t.reversed_count,
    reversedPoints: t.reversed_points,
    reversedValueMinor: t.reversed_value_minor,
    members: a.members,
    membersRedeemed: t.members_redeemed,
    shareOfMembers: ratio(t.members_redeemed, a.members),
    activeMembers: a.active,
    activeMembersRedeemed: a.active_redeemed,
    shareOfActiveMembers: ratio(a.active_redeemed, a.active),
  };
}

async function membersOf(
  ctx: ModuleContext,
  from: Date,
  to: Date,
  levels: readonly { name: string; threshold: number }[],
): Promise<LoyaltyMemberCounts> {
  const rows = await repo.membersByTier(ctx.db, from, to);
  const rank = new Map([...levels].sort((a, b) => a.threshold - b.threshold).map((t, i) => [t.name, i]));
  const order = (tier: string | null) => (tier === null ? -1 : (rank.get(tier) ?? levels.length));
  const byTier = rows
    .map((r) => ({ tier: r.tier, members: r.members }))
    .sort((a, b) => order(a.tier) - order(b.tier) || String(a.tier).localeCompare(String(b.tier)));
  return {
    total: rows.reduce((s, r) => s + r.members, 0),
    byTier,
    enrolledInPeriod: rows.reduce((s, r) => s + r.enrolled, 0),
  };
}

/** Every customer's sale orders (net of refunds, programme currency) and enrolment, into the pure comparison. */
async function comparisonOf(
  ctx: ModuleContext,
  now: Date,
  currency: string,
  windowDays: number,
): Promise<MembersVsNonMembersReport> {
  const [orders, enrolled] = await Promise.all([
    repo.customerNetOrders(ctx.db, now, currency),
    repo.enrolments(ctx.db),
  ]);
  const byId = new Map<number, CustomerHistory & { orders: { at: Date; netMinor: number }[] }>();
  for (const o of orders) {
    let c = byId.get(o.customer_id);
    if (!c) {
      c = { customerId: o.customer_id, enrolledAt: null, orders: [] };
      byId.set(o.customer_id, c);
    }
    c.orders.push({ at: o.ordered_at, netMinor: o.net_minor });
  }
  for (const m of enrolled) {
    const c = byId.get(m.customer_id);
    if (c) c.enrolledAt = m.enrolled_at;
    else byId.set(m.customer_id, { customerId: m.customer_id, enrolledAt: m.enrolled_at, orders: [] });
  }
  return membersVsNonMembers([...byId.values()], { asOf: now, windowDays });
}

// ---- the verdict --------------------------------------------------------------------------------

/** Below this many matched members the report says there are too few to tell. */
export const FEW_MATCHED_MEMBERS = 30;

const signed = (x: number, digits: number): string => `${x < 0 ? '−' : ''}${Math.abs(x).toFixed(digits)}`;

/** What an interval says about a difference. */
function reading(ci: { low: number; high: number } | null): string {
  if (!ci) return 'no interval could be estimated, so it cannot be told from no difference';
  if (ci.low > 0) return 'more than chance alone would explain';
  if (ci.high < 0) return 'less, by more than chance alone would explain';
  return 'not distinguishable from no difference';
}

/**
 * The comparison in a few plain sentences: the matched difference in repeat purchase (percentage
 * points) and in net revenue per member, each with its 95% interval and what the interval allows one
 * to say; "too few to tell" below {@link FEW_MATCHED_MEMBERS} matched members; why nothing can be said
 * when no member is comparable. Never says the programme caused a difference: members chose to join.
 */
export function membersVerdict(r: MembersVsNonMembersReport, currency: string, digits: number): string {
  const c = r.counts;
  const w = r.windowDays;
  if (c.members === 0) return 'No loyalty members yet: nothing to compare.';
  if (c.eligible === 0)
    return (
      `No member can be compared yet: a member needs a purchase before joining (to find non-members with the same ` +
      `history) and ${w} days since joining (to see what they bought next). Of ${c.members} members, ` +
      `${c.joinedAtFirstPurchase} joined at their first purchase and ${c.windowIncomplete} joined less than ${w} days ago.`
    );
  if (c.matched === 0)
    return (
      `No member could be compared: no non-member had the same purchase history as the ` +
      `${c.eligible === 1 ? 'member' : `${c.eligible} members`} who bought before joining, in the month ` +
      `${c.eligible === 1 ? 'they' : 'each'} joined.`
    );
  if (c.matched < FEW_MATCHED_MEMBERS)
    return (
      `Too few members to tell: only ${c.matched} member${c.matched === 1 ? '' : 's'} could be matched with comparable ` +
      `non-members (at least ${FEW_MATCHED_MEMBERS} are needed for a usable interval), so whether members buy more ` +
      `than similar non-members cannot be told yet.`
    );
  const rep = r.matched.repeatRate;
  const rev = r.matched.revenuePerCustomerMinor;
  const money = (minor: number) => formatMoney(minor, digits, null);
  const parts: string[] = [];
  if (rep.difference !== null) {
    const d = rep.difference * 100;
    const ci = rep.ci95
      ? ` (95% CI ${signed(rep.ci95.low * 100, 1)} to ${signed(rep.ci95.high * 100, 1)})`
      : '';
    parts.push(
      `In the ${w} days after joining, members bought again ${Math.abs(d).toFixed(1)} percentage points ` +
        `${d < 0 ? 'less' : 'more'} often than comparable non-members${ci}: ${reading(rep.ci95)}.`,
    );
  }
  if (rev.difference !== null) {
    const ci = rev.ci95 ? ` (95% CI ${money(rev.ci95.low)} to ${money(rev.ci95.high)} ${currency})` : '';
    parts.push(
      `They spent ${money(Math.abs(rev.difference))} ${currency} ${rev.difference < 0 ? 'less' : 'more'} per member${ci}: ` +
        `${reading(rev.ci95)}.`,
    );
  }
  parts.push(
    `${c.matched} of ${c.members} members compared, matched on purchase history only; members chose to join, ` +
      `so this shows how they differ, not that the programme caused it.`,
  );
  return parts.join(' ');
}

// ---- Markdown -----------------------------------------------------------------------------------

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function mdTable(head: string[], rows: string[][]): string {
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

const int = (n: number) => (n < 0 ? '−' : '') + Math.abs(n).toLocaleString('en-US');
const pct = (x: number | null, digits = 1) => (x === null ? '–' : `${(x * 100).toFixed(digits)}%`);

/** The report as Markdown with compact tables (for `--out report.md` and the human output). */
export function loyaltyReportMarkdown(r: LoyaltyReport): string {
  const money = (minor: number | null) => formatMoney(minor, r.minorDigits, r.currency);
  const cal = calendarOf(r.timeZone);
  const instant = (iso: string) => {
    const ms = new Date(iso).getTime();
    const hhmm = new Date(ms + cal.offsetMs(ms)).toISOString().slice(11, 16);
    return `${cal.dayOfMs(ms)} ${hhmm}`;
  };
  const out: string[] = [];
  out.push('# Loyalty report', '');
  out.push(
    `Programme version ${r.programVersion}, ${r.currency}: ${int(r.pointValue.points)} points = ` +
      `${money(r.pointValue.minor)}. Period ${instant(r.from)} to ${instant(r.to)} (${r.timeZone}), ` +
      `balances as of ${instant(r.generatedAt)}.`,
    '',
  );

  const l = r.liability;
  out.push('## Liability', '');
  out.push(
    `Outstanding **${int(l.outstandingPoints)} points = ${money(l.outstandingValueMinor)}**` +
      (l.debtPoints ? ` (${int(l.availablePoints)} available − ${int(l.debtPoints)} owed by members)` : '') +
      `; pending ${int(l.pendingPoints)} points = ${money(l.pendingValueMinor)}; ` +
      `total ${int(l.totalPoints)} points = ${money(l.totalValueMinor)}.`,
    '',
  );
  if (l.byExpiryMonth.length)
    out.push(
      mdTable(
        ['Expires', 'Available', 'Pending', 'Points', 'Value'],
        l.byExpiryMonth.map((m) => [
          m.month,
          int(m.availablePoints),
          int(m.pendingPoints),
          int(m.points),
          money(m.valueMinor),
        ]),
      ),
      '',
    );

  const f = r.flows;
  const flowRow = (label: string, x: FlowFigures) => [
    label,
    int(x.earned),
    int(x.released),
    int(x.redeemed),
    int(x.reversed),
    int(x.expired),
    int(x.clawedBack),
    int(x.adjusted),
    money(x.netSalesMinor),
    money(x.memberNetSalesMinor),
    x.earnRate === null ? '–' : x.earnRate.toFixed(2),
  ];
  out.push('## Points flows', '');
  out.push(
    mdTable(
      [
        'Month',
        'Earned',
        'Released',
        'Redeemed',
        'Reversed',
        'Expired',
        'Clawed back',
        'Adjusted',
        'Net sales',
        'Members’ net sales',
        `Points per ${r.currency}`,
      ],
      [...f.months.map((m) => flowRow(m.month, m)), flowRow('**Total**', f.totals)],
    ),
    '',
  );
  out.push(
    `Earned ${int(f.totals.earned)} points (${int(f.totals.earnedOnOrders)} on orders, ${int(f.totals.earnedBonuses)} bonuses). ` +
      `Burn rate (redeemed / earned) ${pct(f.burnRate)}; expiry rate (expired / earned) ${pct(f.expiryRate)}.`,
    '',
  );

  const d = r.redemption;
  out.push('## Redemptions', '');
  out.push(
    `${int(d.count)} redemptions of ${int(d.points)} points worth ${money(d.valueMinor)}` +
      (d.reversedCount
        ? ` (${int(d.reversedCount)} reversed since: ${int(d.reversedPoints)} points, ${money(d.reversedValueMinor)})`
        : '') +
      `. ${int(d.membersRedeemed)} of ${int(d.members)} members redeemed at least once (${pct(d.shareOfMembers)}); ` +
      `${int(d.activeMembersRedeemed)} of ${int(d.activeMembers)} active members (${pct(d.shareOfActiveMembers)}).`,
    '',
  );

  const m = r.members;
  out.push('## Members', '');
  out.push(`${int(m.total)} members, ${int(m.enrolledInPeriod)} enrolled in the period.`, '');
  if (m.byTier.some((t) => t.tier !== null))
    out.push(
      mdTable(
        ['Tier', 'Members'],
        m.byTier.map((t) => [t.tier ?? '(none)', int(t.members)]),
      ),
      '',
    );

  const v = r.membersVsNonMembers;
  out.push(`## Members vs comparable non-members (${v.windowDays} days after joining)`, '');
  out.push(v.verdict, '');
  const repeat = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
  const pp = (x: number | null) => (x === null ? '–' : `${signed(x * 100, 1)} pp`);
  const ciOf = (o: OutcomeComparison, fmt: (x: number) => string) => {
    const ci = (o as Partial<MatchedOutcome>).ci95;
    return ci ? `${fmt(ci.low)} to ${fmt(ci.high)}` : '–';
  };
  const moneyDiff = (x: number | null) => (x === null ? '–' : money(x));
  out.push(
    mdTable(
      ['', 'Members', 'Non-members', 'Difference', '95% CI'],
      [
        [
          'Repeat rate, matched',
          repeat(v.matched.repeatRate.members),
          repeat(v.matched.repeatRate.controls),
          pp(v.matched.repeatRate.difference),
          ciOf(v.matched.repeatRate, (x) => pp(x)),
        ],
        [
          'Repeat rate, raw',
          repeat(v.raw.repeatRate.members),
          repeat(v.raw.repeatRate.controls),
          pp(v.raw.repeatRate.difference),
          '–',
        ],
        [
          'Revenue per customer, matched',
          moneyDiff(v.matched.revenuePerCustomerMinor.members),
          moneyDiff(v.matched.revenuePerCustomerMinor.controls),
          moneyDiff(v.matched.revenuePerCustomerMinor.difference),
          ciOf(v.matched.revenuePerCustomerMinor, (x) => money(x)),
        ],
        [
          'Revenue per customer, raw',
          moneyDiff(v.raw.revenuePerCustomerMinor.members),
          moneyDiff(v.raw.revenuePerCustomerMinor.controls),
          moneyDiff(v.raw.revenuePerCustomerMinor.difference),
          '–',
        ],
      ],
    ),
    '',
  );
  const c = v.counts;
  out.push(
    `Members: ${int(c.members)}; comparable ${int(c.eligible)} (${int(c.enrolledAtPurchase)} of them joined at a ` +
      `purchase), matched ${int(c.matched)}; not comparable: ${int(c.joinedAtFirstPurchase)} joined at their first ` +
      `purchase, ${int(c.windowIncomplete)} joined less than ${v.windowDays} days ago. ${int(c.controlsUsed)} ` +
      `non-members used as controls. Raw = all comparable members against all non-member observations, unmatched.`,
    '',
  );
  for (const n of v.notes) out.push(`> ${n}`);
  if (v.notes.length) out.push('');

  out.push('## Notes', '');
  for (const n of r.notes) out.push(`- ${n}`);
  out.push('');
  return out.join('\n');
}
