import type { Command } from 'commander';
import type {
  ChannelsOutput,
  CohortsOutput,
  DiagnoseOutput,
  DigestOutput,
  DigestResult,
  LtvOutput,
  RetentionOutput,
  RfmOutput,
  SummaryOutput,
} from './service.js';
import type { OverviewOutput } from './overview.js';
import type { CliRuntime } from '../../kit/module.js';
import { declareOnDispatch, optionsFrom, type OptionOverride } from '../../kit/cli/options.js';
import { money, percent, table } from '../../kit/cli/format.js';
import { emit } from '../../kit/cli/output.js';
import { calendarOf } from '../../analytics/calendar.js';

/** The headline table `report summary` and `demo` print. */
export function describeSummary(s: SummaryOutput): string {
  return (
    table(
      ['metric', 'value'],
      [
        ['as of (inclusive)', s.timeZone ? `${s.asOf} (${s.timeZone})` : s.asOf],
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
        [
          'refunds of no sale in scope (not subtracted)',
          `${s.refundsUnattributed.refunds} (${money(s.refundsUnattributed.amount, s.currency)})`,
        ],
      ],
    ) + s.warnings.map((w) => `\nwarning: ${w}`).join('')
  );
}

const OVERVIEW_LABELS: Record<keyof OverviewOutput['figures'], string> = {
  customers: 'customers (≥1 order in the period)',
  newCustomers: 'new customers',
  orders: 'orders',
  netRevenue: 'net revenue',
  aov: 'average order value',
  repeatCustomerRate: 'repeat-customer rate',
  retention: 'retention (vs the period before)',
  churn: 'churn',
  sixMonthLtv: '6-month LTV (cohorts acquired)',
  ltvToCac: 'LTV:CAC (6-month margin)',
};

/** `report overview` as a table: this period, the one before, the change. */
export function describeOverview(o: OverviewOutput): string {
  const show = (name: keyof OverviewOutput['figures'], v: number | null) =>
    v === null
      ? '—'
      : name === 'netRevenue' || name === 'aov' || name === 'sixMonthLtv'
        ? money(v, o.currency)
        : RATE_FIGURES.has(name)
          ? percent(v)
          : name === 'ltvToCac'
            ? v.toFixed(2)
            : v;
  const change = (f: OverviewOutput['figures']['customers']) =>
    f.change === null
      ? '—'
      : f.changeKind === 'points'
        ? `${f.change >= 0 ? '+' : ''}${(f.change * 100).toFixed(1)} pp`
        : `${f.change >= 0 ? '+' : ''}${(f.change * 100).toFixed(1)}%`;
  return (
    `${o.period.from} – ${o.period.to} (${o.period.days} days) vs ${o.previous.from} – ${o.previous.to}\n` +
    table(
      ['metric', 'period', 'before', 'change'],
      (Object.keys(OVERVIEW_LABELS) as (keyof OverviewOutput['figures'])[]).map((name) => {
        const f = o.figures[name];
        return [OVERVIEW_LABELS[name], show(name, f.value), show(name, f.previous), change(f)];
      }),
    ) +
    o.notes.map((n) => `\nnote: ${n}`).join('')
  );
}
const RATE_FIGURES = new Set(['repeatCustomerRate', 'retention', 'churn']);

/** The value placeholders of the report options (the flags and help texts come from schema.ts). */
const FLAGS: Record<string, OptionOverride> = {
  asOf: { arg: 'YYYY-MM-DD' },
  from: { arg: 'YYYY-MM-DD' },
  to: { arg: 'YYYY-MM-DD' },
  period: { arg: 'month|quarter' },
  segment: { arg: 'name' },
  months: { arg: 'n' },
  by: { arg: 'attribute' },
  show: { arg: 'what' },
  horizon: { arg: 'days' },
  base: { arg: 'YYYY-MM..YYYY-MM' },
  current: { arg: 'YYYY-MM..YYYY-MM' },
  top: { arg: 'n' },
  month: { arg: 'YYYY-MM' },
  out: { arg: 'file' },
};

/**
 * `retain report …`. Each command's options come from its schema (schema.ts: the service's input, plus
 * `cohorts --show` and `digest --out`), declared when `retain report` dispatches to the command; the
 * schemas and the services (with DuckDB) are imported lazily so `retain --help` stays fast.
 */
export function registerReport(program: Command, cli: CliRuntime): Command {
  const report = program
    .command('report')
    .description('analytics reports (see docs/metrics.md for every definition)');
  declareOnDispatch(report, async (sub) => {
    const s = await import('./schema.js');
    const schema = {
      summary: s.SummaryInput,
      overview: s.OverviewInput,
      ltv: s.LtvInput,
      retention: s.RetentionInput,
      cohorts: s.CohortsOptions,
      rfm: s.RfmInput,
      channels: s.ChannelsInput,
      diagnose: s.DiagnoseInput,
      digest: s.DigestOptions,
    }[sub.name()];
    if (schema) optionsFrom(sub, schema, FLAGS);
  });
  report
    .command('summary')
    .description('headline figures: customers, orders, revenue, refunds, AOV, repeat rate, lifespan')
    .addHelpText('after', '\nExample:\n  $ retain report summary --as-of 2011-12-09 --json')
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ SummaryInput, parseOptions }, { summaryReport }] = await Promise.all([
        import('./schema.js'),
        import('./service.js'),
      ]);
      const input = parseOptions(SummaryInput, raw);
      const s = await cli.withContext(cmd, (ctx) => summaryReport(ctx, input));
      emit(cmd, s, () => describeSummary(s));
    });
  report
    .command('overview')
    .description(
      'the dashboard Overview: a period of days against the one before — customers, revenue, AOV, repeat rate, retention, churn, 6-month LTV, LTV:CAC',
    )
    .addHelpText('after', '\nExample:\n  $ retain report overview --from 2011-06-01 --to 2011-11-30')
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ OverviewInput, parseOptions }, { overviewReport }] = await Promise.all([
        import('./schema.js'),
        import('./overview.js'),
      ]);
      const input = parseOptions(OverviewInput, raw);
      const o = await cli.withContext(cmd, (ctx) => overviewReport(ctx, input));
      emit(cmd, o, () => describeOverview(o));
    });
  registerAnalytics(report, cli);
  return report;
}

// ---------------------------------------------------------------- analytics reports

const n2 = (x: number | null) => (x === null ? '—' : x.toFixed(2));
const pct0 = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`);

function notesOf(notes: readonly string[]): string {
  return notes.length ? '\n' + notes.map((n) => `note: ${n}`).join('\n') : '';
}

function titleLine(o: {
  report: string;
  asOf: string;
  timeZone?: string;
  currency: string;
  filters: Record<string, string>;
}) {
  const f = Object.entries(o.filters)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const zone = o.timeZone ? ` ${o.timeZone}` : '';
  return `${o.report} as of ${o.asOf}${zone} (inclusive), ${o.currency}${f ? ` — ${f}` : ''}`;
}

/** The local day (store time zone) of an ISO instant of a report's JSON. */
function localDay(iso: string, timeZone: string | undefined): string {
  return timeZone ? calendarOf(timeZone).dayOfMs(Date.parse(iso)) : iso.slice(0, 10);
}

const LTV_LABELS: Record<string, string> = {
  'ltv.aov_frequency_lifespan': 'AOV × frequency × lifespan',
  'ltv.monthly_sales_lifetime': 'monthly sales × lifetime',
  'ltv.margin_churn': 'monthly margin / churn',
  'ltv.observed_revenue': 'observed net revenue to date',
  'ltv.observed_margin': 'observed margin to date',
  'ltv.predicted': 'predicted (CLV model)',
};

type LtvFormulaJson = LtvOutput['overall']['formulas'][number];

/** The inputs of one LTV formula, as the formula reads. */
function ltvInputs(f: LtvFormulaJson, currency: string): string {
  const i = f.inputs;
  const num = (k: string, d = 2) => (typeof i[k] === 'number' ? (i[k] as number).toFixed(d) : '—');
  const cur = (k: string) => money(typeof i[k] === 'number' ? (i[k] as number) : null, currency);
  switch (f.definition) {
    case 'ltv.aov_frequency_lifespan':
      return `${cur('averageNetOrderValue')} × ${num('ordersPerCustomerPerYear')} orders/yr × ${num('expectedLifespanYears')} yrs`;
    case 'ltv.monthly_sales_lifetime':
      return `${cur('monthlySalesPerCustomer')}/month × ${num('averageLifetimeMonths')} months`;
    case 'ltv.margin_churn':
      return `${cur('monthlyMarginPerCustomer')}/month ÷ churn ${percent(typeof i.monthlyChurnRate === 'number' ? i.monthlyChurnRate : null)} (${String(i.marginBasis)} basis)`;
    case 'ltv.observed_revenue':
      return `${cur('netRevenue')} ÷ ${String(i.customers)} customers`;
    case 'ltv.observed_margin':
      return `${cur('margin')} ÷ ${String(i.customers)} customers (${String(i.marginBasis)} basis)`;
    default:
      return String(i.model ?? '');
  }
}

export function describeLtv(o: LtvOutput): string {
  const c = o.currency;
  const g = o.overall;
  const out = [
    titleLine(o),
    `window ${o.window.firstMonth} … ${o.window.lastMonth} (${o.window.months} months); ${g.customers} customers; margin basis: ${g.marginBasis}; CAC ${money(g.cac.cac, c)}${g.cac.note ? ` (${g.cac.note})` : ''}`,
    '',
    table(
      ['formula', 'LTV', 'LTV − CAC', 'LTV:CAC', 'fits this store', 'inputs', 'definition'],
      g.formulas.map((f) => [
        LTV_LABELS[f.definition] ?? f.definition,
        money(f.value, c),
        money(f.ltvMinusCac, c),
        n2(f.ltvToCac),
        f.definition === g.recommended.definition
          ? 'yes, recommended'
          : f.assessment.assumptionsHold
            ? 'yes'
            : f.definition.startsWith('ltv.observed')
              ? 'floor'
              : 'no',
        ltvInputs(f, c),
        f.definition,
      ]),
    ),
    '',
    `recommended: ${LTV_LABELS[g.recommended.definition] ?? g.recommended.definition} — ${g.recommended.reason}`,
    ...g.formulas.map(
      (f) => `  ${(LTV_LABELS[f.definition] ?? f.definition).padEnd(29)} ${f.assessment.reasons.join('; ')}`,
    ),
  ];
  if (o.byChannel.length > 1 || (o.byChannel[0] && o.byChannel[0].group !== '(unknown)')) {
    const defs = g.formulas.map((f) => f.definition);
    out.push(
      '',
      'By acquisition channel',
      table(
        ['channel', 'customers', 'CAC', ...defs.map((d) => LTV_LABELS[d] ?? d)],
        o.byChannel.map((ch) => [
          ch.group,
          ch.customers,
          money(ch.cac.cac, c),
          ...defs.map((d) => money(ch.formulas.find((f) => f.definition === d)?.value ?? null, c)),
        ]),
      ),
    );
  }
  const cats = o.byFirstCategory;
  if (cats.length > 1 || (cats[0] && cats[0].group !== '(unknown)')) {
    // No CAC column: spend is recorded per channel (each group's cac.note says so).
    const defs = g.formulas.map((f) => f.definition);
    out.push(
      '',
      "By first order's category",
      table(
        ['first category', 'customers', ...defs.map((d) => LTV_LABELS[d] ?? d)],
        cats.map((cat) => [
          cat.group,
          cat.customers,
          ...defs.map((d) => money(cat.formulas.find((f) => f.definition === d)?.value ?? null, c)),
        ]),
      ),
    );
  }
  return out.join('\n') + notesOf(o.notes);
}

export function describeRetention(o: RetentionOutput): string {
  const t = o.timeToSecondPurchase;
  const r = o.repeatCustomerRate;
  return [
    titleLine(o),
    '',
    table(
      [
        o.period,
        'active',
        'new',
        'returning',
        'retained',
        'retention',
        'churn',
        'orders',
        'repeat share',
        'Shopify RCR',
      ],
      o.periods.map((p) => [
        p.period + (p.partial ? '*' : ''),
        p.activeCustomers,
        p.newCustomers,
        p.returningCustomers,
        p.retained,
        percent(p.retentionRate),
        percent(p.churnRate),
        p.orders,
        percent(p.repeatPurchaseShare),
        percent(p.shopifyReturningCustomerRate),
      ]),
    ),
    o.periods.some((p) => p.partial) ? '* period not complete at the as-of day' : '',
    `repeat customer rate: ${percent(r.rate)} (${r.repeatCustomers} of ${r.customers} customers have ≥ 2 orders)`,
    `time to second purchase: median ${n2(t.medianDays)} days; within 30 days ${percent(t.shareWithin30Days)} (${t.within30Days}), later ${t.after30Days}`,
    '',
    table(
      ['days to 2nd order', 'customers', 'share'],
      t.distribution.map((b) => [b.label, b.customers, percent(b.share)]),
    ),
    '',
    'retention = retained / active in the previous period; repeat share = orders from returning customers / orders;',
    'Shopify RCR = Shopify\'s "returning customer rate" (docs/metrics.md#retention)',
  ].join('\n');
}

type CohortShow = 'retention' | 'revenue' | 'margin';

export function describeCohorts(o: CohortsOutput, show: CohortShow = 'retention'): string {
  const c = o.currency;
  const maxK = Math.max(0, ...o.cohorts.map((x) => x.retention.length));
  const split = o.by !== null;
  const cell = (row: CohortsOutput['cohorts'][number], k: number): string => {
    if (k >= row.retention.length) return '';
    if (show === 'retention') return pct0(row.retention[k] ?? null);
    const v = (show === 'revenue' ? row.cumulativeRevenuePerCustomer : row.cumulativeMarginPerCustomer)[k];
    return v === undefined || v === null ? '' : v.toFixed(0);
  };
  const hasCac = o.cohorts.some((x) => x.cac !== null);
  const head = [
    'cohort',
    ...(split ? [o.by!] : []),
    'size',
    ...Array.from({ length: maxK }, (_, k) => `${k}`),
    '6-period LTV',
    ...(hasCac ? ['CAC', 'payback'] : []),
  ];
  const what =
    show === 'retention'
      ? `share of each cohort ordering k ${o.period}s after its first ${o.period}`
      : `cumulative ${show === 'revenue' ? 'net revenue' : `margin (${o.marginBasis} basis)`} per customer (${c}) by k`;
  return (
    [
      titleLine(o),
      `${what}; last column partial: ${o.cohorts[0]?.lastPeriodPartial ? 'yes' : 'no'}`,
      '',
      table(
        head,
        o.cohorts.map((row) => [
          row.cohort,
          ...(split ? [row.segment ?? '—'] : []),
          row.size,
          ...Array.from({ length: maxK }, (_, k) => cell(row, k)),
          money(row.sixMonthLtv, c),
          ...(hasCac
            ? [money(row.cac, c), row.paybackPeriods === null ? '—' : `k=${row.paybackPeriods}`]
            : []),
        ]),
      ),
      '6-period LTV = cumulative net revenue per customer at 6 months (k = 5 months / k = 1 quarter)',
    ].join('\n') + notesOf(o.notes)
  );
}

export function describeRfm(o: RfmOutput): string {
  const c = o.currency;
  return [
    titleLine(o),
    `${o.customerCount} customers scored 1–5 on recency, frequency and monetary value (docs/metrics.md#rfm)`,
    '',
    table(
      [
        'segment',
        'customers',
        'share',
        'net revenue',
        'revenue share',
        'avg recency (days)',
        'avg orders',
        'avg net revenue',
      ],
      o.segments.map((s) => [
        s.segment,
        s.customers,
        percent(s.share),
        money(s.revenue, c),
        percent(s.revenueShare),
        s.avgRecencyDays === null ? null : Math.round(s.avgRecencyDays),
        s.avgFrequency === null ? null : Number(s.avgFrequency.toFixed(2)),
        money(s.avgMonetary, c),
      ]),
    ),
  ].join('\n');
}

export function describeChannels(o: ChannelsOutput): string {
  const c = o.currency;
  const out = [
    titleLine(o),
    `acquisition window ${localDay(o.window.from, o.timeZone)} … ${localDay(o.window.to, o.timeZone)} (exclusive); LTV = ${o.marginBasis} per customer; LTV:CAC at ${o.ratioHorizonDays} days`,
    '',
    table(
      [
        'channel',
        'customers',
        'spend',
        'CAC',
        'LTV 90d',
        'LTV 180d',
        'LTV 365d',
        'LTV:CAC',
        'payback (days)',
        'repeat rate',
      ],
      o.channels.map((ch) => [
        ch.channel,
        ch.customers,
        money(ch.spend, c),
        money(ch.cac, c),
        ...ch.ltv.map((h) => `${money(h.margin, c)} (n=${h.matureCustomers})`),
        n2(ch.ltvToCac),
        ch.paybackDays,
        percent(ch.repeatRate),
      ]),
    ),
    '',
  ];
  const r = o.reallocation;
  if (!r) out.push(`budget reallocation: none — ${o.reallocationNote ?? ''}`);
  else {
    out.push(
      `budget reallocation: move ${money(r.movedSpend, c)} (${percent(r.shareMoved)} of ${r.fromChannel}'s spend) from ${r.fromChannel} to ${r.toChannel}`,
      `  expected change of acquired ${o.ratioHorizonDays}-day value: ${money(r.diminishingReturns.valueChange, c)} with diminishing returns (e = ${r.elasticity}), at most ${money(r.linear.valueChange, c)} at constant CAC`,
      `  customers: −${r.diminishingReturns.customersLost.toFixed(1)} in ${r.fromChannel}, +${r.diminishingReturns.customersGained.toFixed(1)} in ${r.toChannel}`,
      '  assumptions:',
      ...r.assumptions.map((a) => `  - ${a}`),
    );
  }
  return out.join('\n') + notesOf(o.notes);
}

const EFFECT_LABELS: Record<string, string> = {
  newReturningMix: 'new vs returning mix',
  retention: 'retention (retained vs reactivated)',
  channelMix: 'channel mix',
  ordersPerCustomer: 'orders per customer',
  categoryMix: 'category mix',
  aov: 'average order value',
};

export function describeDiagnose(o: DiagnoseOutput): string {
  const c = o.currency;
  const b = o.base;
  const k = o.current;
  const out = [
    titleLine(o),
    '',
    table(
      ['', `base ${b.label}`, `current ${k.label}`],
      [
        ['customers', b.customers, k.customers],
        ['  new', b.newCustomers, k.newCustomers],
        ['  retained', b.retainedCustomers, k.retainedCustomers],
        ['  reactivated', b.reactivatedCustomers, k.reactivatedCustomers],
        ['orders', b.orders, k.orders],
        ['net revenue', money(b.netRevenue, c), money(k.netRevenue, c)],
        ['revenue per customer', money(b.revenuePerCustomer, c), money(k.revenuePerCustomer, c)],
        ['orders per customer', n2(b.ordersPerCustomer), n2(k.ordersPerCustomer)],
        ['AOV (net)', money(b.aov, c), money(k.aov, c)],
      ],
    ),
    '',
  ];
  if (!o.change) out.push(`no decomposition: ${o.note ?? ''}`);
  else {
    out.push(
      `revenue per customer changed by ${money(o.change.rounded, c)} (${percent(o.change.relative)}); exact parts (Shapley, docs/metrics.md#diagnose):`,
      table(
        ['effect', 'contribution', 'definition'],
        [
          ...o.parts.map((p) => [EFFECT_LABELS[p.effect] ?? p.effect, money(p.rounded, c), p.definition]),
          ['total', money(o.change.rounded, c), ''],
        ],
      ),
    );
    for (const d of o.drivers) {
      out.push(
        '',
        `drivers by ${d.dimension} (top ${d.rows.length} of ${d.segments})`,
        table(
          [
            d.dimension,
            'customers base',
            'customers current',
            'RPC base',
            'RPC current',
            'contribution',
            'share of change',
          ],
          d.rows.map((r) => [
            r.segment,
            r.baseCustomers,
            r.currentCustomers,
            money(r.baseRevenuePerCustomer, c),
            money(r.currentRevenuePerCustomer, c),
            money(r.contributionRounded, c),
            percent(r.shareOfChange),
          ]),
        ),
      );
    }
  }
  return out.join('\n') + notesOf(o.notes);
}

/** `report digest --out FILE --json`: where the digest went. */
export type DigestWritten = Omit<DigestOutput, 'markdown' | 'data'> & {
  written: { path: string; format: 'html' | 'markdown'; bytes: number };
};

export function describeDigest(o: DigestOutput | DigestWritten): string {
  if ('written' in o) return `${o.written.path}`;
  return o.markdown;
}

/**
 * Writes the digest to `out`: self-contained HTML for `.html`/`.htm`, Markdown otherwise (the options
 * schema accepts only those endings), and says where.
 */
export async function writeDigest(r: DigestResult, out: string): Promise<DigestWritten> {
  const [{ writeFile }, { resolve }, { renderDigestHtml, renderDigestMarkdown }, { AppError }] =
    await Promise.all([
      import('node:fs/promises'),
      import('node:path'),
      import('./digestFormat.js'),
      import('../../shared/errors.js'),
    ]);
  const html = /\.html?$/i.test(out);
  const text = html ? renderDigestHtml(r.digest) : renderDigestMarkdown(r.digest);
  const path = resolve(out);
  try {
    await writeFile(path, text);
  } catch (err) {
    throw new AppError('validation', `cannot write ${path}: ${(err as Error).message}`, {
      where: { field: '--out' },
      cause: err,
    });
  }
  const { digest: _digest, digits: _digits, ...head } = r;
  return { ...head, written: { path, format: html ? 'html' : 'markdown', bytes: Buffer.byteLength(text) } };
}

/** The analytics subcommands of `retain report` (schemas and services are loaded lazily, with DuckDB). */
function registerAnalytics(report: Command, cli: CliRuntime): void {
  const load = () => Promise.all([import('./schema.js'), import('./service.js')]);

  report
    .command('ltv')
    .description('lifetime value: the seed formulas side by side with observed (and predicted) LTV, vs CAC')
    .addHelpText(
      'after',
      '\nExample:\n  $ retain report ltv --as-of 2011-12-09\n  $ retain report ltv --segment Champions --json',
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ LtvInput, parseOptions }, { ltvReport }] = await load();
      const input = parseOptions(LtvInput, raw);
      const o = await cli.withContext(cmd, (ctx) => ltvReport(ctx, input));
      emit(cmd, o, () => describeLtv(o));
    });

  report
    .command('retention')
    .description(
      'period retention, churn, repeat-purchase share, Shopify returning customer rate, time to 2nd order',
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ retain report retention --period quarter --from 2011-01-01 --to 2011-12-09',
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ RetentionInput, parseOptions }, { retentionReport }] = await load();
      const input = parseOptions(RetentionInput, raw);
      const o = await cli.withContext(cmd, (ctx) => retentionReport(ctx, input));
      emit(cmd, o, () => describeRetention(o));
    });

  report
    .command('cohorts')
    .description(
      'acquisition cohorts: retention by period since the first order, cumulative revenue, CAC and payback',
    )
    .addHelpText(
      'after',
      '\n--from/--to keep the cohorts whose first-order period lies in the range.\n\nExample:\n  $ retain report cohorts --period month --from 2010-12-01 --to 2011-05-31\n  $ retain report cohorts --by country --show revenue',
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ CohortsOptions, parseOptions }, { cohortsReport }] = await load();
      const { show, ...input } = parseOptions(CohortsOptions, raw);
      const o = await cli.withContext(cmd, (ctx) => cohortsReport(ctx, input));
      emit(cmd, o, () => describeCohorts(o, show));
    });

  report
    .command('rfm')
    .description('recency/frequency/monetary scores 1–5 and the named segments, with counts and revenue')
    .addHelpText(
      'after',
      '\nExample:\n  $ retain report rfm --as-of 2011-12-09\n  $ retain report rfm --customers --json > rfm.json',
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ RfmInput, parseOptions }, { rfmReport }] = await load();
      const input = parseOptions(RfmInput, raw);
      const o = await cli.withContext(cmd, (ctx) => rfmReport(ctx, input));
      emit(cmd, o, () => describeRfm(o));
    });

  report
    .command('channels')
    .description(
      'per acquisition channel: customers, CAC, 90/180/365-day LTV, LTV:CAC, payback, repeat rate; budget reallocation',
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ retain report channels --from 2011-01-01 --to 2011-06-30 --horizon 180',
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ ChannelsInput, parseOptions }, { channelsReport }] = await load();
      const input = parseOptions(ChannelsInput, raw);
      const o = await cli.withContext(cmd, (ctx) => channelsReport(ctx, input));
      emit(cmd, o, () => describeChannels(o));
    });

  report
    .command('diagnose')
    .description(
      'why revenue per customer changed between two periods: exact decomposition and the segments that drove it',
    )
    .addHelpText('after', '\nExample:\n  $ retain report diagnose --base 2011-09 --current 2011-10..2011-11')
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ DiagnoseInput, parseOptions }, { diagnoseReport }] = await load();
      const input = parseOptions(DiagnoseInput, raw);
      const o = await cli.withContext(cmd, (ctx) => diagnoseReport(ctx, input));
      emit(cmd, o, () => describeDiagnose(o));
    });

  report
    .command('digest')
    .description('the monthly digest: headline vs previous month and last year, cohorts, diagnosis, segments')
    .addHelpText(
      'after',
      '\nWithout --out the Markdown is printed.\n\nExample:\n  $ retain report digest --month 2011-11 --out digest.html',
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const [{ DigestOptions, parseOptions }, { digestJson, digestReport }] = await load();
      const { out, ...input } = parseOptions(DigestOptions, raw);
      const r = await cli.withContext(cmd, (ctx) => digestReport(ctx, input));
      const o = out === undefined ? digestJson(r) : await writeDigest(r, out);
      emit(cmd, o, () => describeDigest(o));
    });
}
