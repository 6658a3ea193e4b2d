/**
 * The monthly digest as documents (docs/metrics.md#digest): Markdown, and one self-contained HTML page
 * with inline SVG charts. Deterministic formatting of the figures that buildDigest
 * (src/analytics/metrics/digest.ts) computes.
 */
import type {
  DigestData,
  DigestSegment,
  HeadlineKey,
  MonthHeadline,
} from '../../analytics/metrics/digest.js';
import { roundHalfAway } from '../../analytics/metrics/util.js';
import { calendarOf, type Calendar } from '../../analytics/calendar.js';
import type { DigestCampaign } from './schema.js';

/** What the renderers take: buildDigest's figures and, when given, the month's campaigns. */
export type DigestPage = DigestData & { campaigns?: readonly DigestCampaign[] };

/** Minor units as a decimal amount with thousands separators, rounded half away from zero. */
export function formatMoney(minor: number | null, digits: number, currency: string | null): string {
  if (minor === null) return '–';
  const r = roundHalfAway(minor);
  const sign = r < 0 ? '−' : '';
  const abs = Math.abs(r);
  const scale = 10 ** digits;
  const whole = Math.floor(abs / scale)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const frac = digits > 0 ? '.' + String(abs % scale).padStart(digits, '0') : '';
  return `${sign}${whole}${frac}${currency ? ` ${currency}` : ''}`;
}

function pct(x: number | null, digits = 1): string {
  return x === null ? '–' : `${(x * 100).toFixed(digits)}%`;
}

function signedPct(x: number | null | undefined): string {
  if (x === null || x === undefined) return '–';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`;
}

function num(x: number | null, digits = 2): string {
  return x === null ? '–' : x.toFixed(digits);
}

interface Row {
  label: string;
  key: HeadlineKey;
  fmt: (h: MonthHeadline) => string;
}

function headlineRows(d: DigestData): Row[] {
  const money = (v: number | null) => formatMoney(v, d.minorDigits, d.currency);
  const rows: Row[] = [
    { label: 'Customers', key: 'customers', fmt: (h) => String(h.customers) },
    { label: 'New customers', key: 'newCustomers', fmt: (h) => String(h.newCustomers) },
    { label: 'Returning customers', key: 'returningCustomers', fmt: (h) => String(h.returningCustomers) },
    { label: 'Orders', key: 'orders', fmt: (h) => String(h.orders) },
    { label: 'Gross revenue', key: 'grossRevenueMinor', fmt: (h) => money(h.grossRevenueMinor) },
    { label: 'Refunds', key: 'refundsMinor', fmt: (h) => money(h.refundsMinor) },
    { label: 'Net revenue', key: 'netRevenueMinor', fmt: (h) => money(h.netRevenueMinor) },
    { label: 'AOV (net)', key: 'aovMinor', fmt: (h) => money(h.aovMinor) },
    { label: 'Orders per customer', key: 'ordersPerCustomer', fmt: (h) => num(h.ordersPerCustomer) },
    {
      label: 'Revenue per customer',
      key: 'revenuePerCustomerMinor',
      fmt: (h) => money(h.revenuePerCustomerMinor),
    },
    { label: 'Retention from previous month', key: 'retentionRate', fmt: (h) => pct(h.retentionRate) },
  ];
  if (d.current.guestOrders !== null) {
    rows.splice(4, 0, {
      label: 'Guest orders',
      key: 'guestOrders',
      fmt: (h) => String(h.guestOrders ?? '–'),
    });
  }
  return rows;
}

interface Table {
  head: string[];
  rows: string[][];
}

/** The tables both renderers show (Markdown and HTML differ only in markup). */
function digestTables(d: DigestData): Record<'headline' | 'effects' | 'top' | 'bottom' | 'rfm', Table> {
  const money = (v: number | null) => formatMoney(v, d.minorDigits, d.currency);
  const segments = (list: DigestSegment[]): Table => ({
    head: ['Segment', 'Contribution', 'Customers'],
    rows: list.map((s) => [
      `${s.dimension}: ${s.segment}`,
      money(s.contributionMinor),
      String(s.currentCustomers),
    ]),
  });
  return {
    headline: {
      head: ['Metric', d.current.month, d.previousMonth.month, 'Δ', d.sameMonthLastYear.month, 'Δ'],
      rows: headlineRows(d).map((r) => [
        r.label,
        r.fmt(d.current),
        r.fmt(d.previousMonth),
        signedPct(d.vsPreviousMonth[r.key]),
        r.fmt(d.sameMonthLastYear),
        signedPct(d.vsSameMonthLastYear[r.key]),
      ]),
    },
    effects: {
      head: ['Effect', 'Contribution'],
      rows: d.diagnosis.parts.map((p) => [EFFECT_LABELS[p.effect]!, money(p.roundedMinor)]),
    },
    top: segments(d.topSegments),
    bottom: segments(d.bottomSegments),
    rfm: {
      head: ['Segment', 'Customers', 'Share', 'Net revenue'],
      rows: d.rfm.map((s) => [s.segment, String(s.customers), pct(s.share), money(s.revenueMinor)]),
    },
  };
}

const EFFECT_LABELS: Record<string, string> = {
  newReturningMix: 'New vs returning mix',
  retention: 'Retention (retained vs reactivated)',
  channelMix: 'Channel mix',
  ordersPerCustomer: 'Orders per customer',
  categoryMix: 'Category mix',
  aov: 'Average order value',
};

function mdTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** The last day the digest counts (in the store time zone): `asOf` is exclusive (the start of the day after). */
function asOfDay(d: DigestData): string {
  return calendarOf(d.timeZone).dayOfMs(d.asOf.getTime() - 1);
}

/** `YYYY-MM-DD HH:MM` of an instant in the store time zone. */
function localTime(iso: string, cal: Calendar): string {
  const ms = Date.parse(iso);
  return new Date(ms + cal.offsetMs(ms)).toISOString().slice(0, 16).replace('T', ' ');
}

/** One campaign as both renderers show it (docs/metrics.md#digest.campaigns). */
interface CampaignBlock {
  title: string;
  /** Sentences before the tables: the launch and the window. */
  lead: string;
  arms: Table;
  effects: Table | null;
  /** The campaign report's verdict per variant, then the variants not compared. */
  verdicts: string[];
  /** The incremental revenue of all variants; null when no variant was compared. */
  total: string | null;
  warnings: string[];
}

/** The intro of the campaigns section, and one block per campaign; null when the month has none. */
function campaignSection(d: DigestPage): { intro: string; blocks: CampaignBlock[] } | null {
  if (!d.campaigns?.length) return null;
  const cal = calendarOf(d.timeZone);
  const money = (v: number) => formatMoney(v, d.minorDigits, d.currency);
  const at = (iso: string) => localTime(iso, cal);
  const blocks = d.campaigns.map((c): CampaignBlock => {
    const sends = (a: DigestCampaign['arms'][number]) => {
      if (a.arm === 'holdout') return '–';
      const other = Object.entries(a.messages)
        .filter(([status, n]) => status !== 'sent' && n > 0)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([status, n]) => `${n} ${status}`);
      return `${a.messagesSent}${other.length ? ` (${other.join(', ')})` : ''}`;
    };
    const warnings: string[] = [];
    if (c.sampleRatio?.mismatch)
      warnings.push(
        `Sample-ratio mismatch: the arms' sizes do not match the planned split (p = ${c.sampleRatio.pValue.toExponential(2)}, ` +
          `below ${c.sampleRatio.threshold}); check the assignment before trusting the comparison.`,
      );
    return {
      title: `${c.campaign}${c.status === 'cancelled' ? ' (cancelled)' : ''}`,
      lead:
        `Launched ${at(c.launchedAt)}; ${c.window.days}-day outcome window to ${at(c.window.end)}: ` +
        (c.window.complete ? 'complete.' : `not over, figures so far (to ${at(c.window.figuresTo)}).`) +
        ` ${c.messagesSent} message${c.messagesSent === 1 ? '' : 's'} sent.`,
      arms: {
        head: ['Arm', 'Template', 'Recipients', 'Messages sent'],
        rows: c.arms.map((a) => [a.arm, a.template ?? '–', String(a.recipients), sends(a)]),
      },
      effects: c.effects.length
        ? {
            head: ['Variant', 'Per recipient vs holdout', '95 % CI', 'Basis', 'Incremental revenue'],
            rows: c.effects.map((e) => [
              e.variant,
              money(e.perRecipientMinor.estimate),
              `${money(e.perRecipientMinor.low)} to ${money(e.perRecipientMinor.high)}`,
              e.basis === 'cuped' ? 'CUPED' : 'unadjusted',
              money(e.incrementalRevenueMinor),
            ]),
          }
        : null,
      verdicts: [
        ...c.effects.map((e) => e.verdict),
        ...c.notCompared.map(
          (v) => `Variant ${v} was not compared: fewer than 2 recipients in it or in the holdout.`,
        ),
      ],
      total: c.effects.length
        ? `Incremental revenue over the holdout, all variants: ${money(c.incrementalRevenueMinor)}.`
        : null,
      warnings,
    };
  });
  return {
    intro:
      `Campaigns launched in ${d.month} or whose outcome window ended in it: revenue per recipient against the ` +
      `holdout's (docs/campaigns.md). Times in ${cal.utc ? 'UTC' : cal.zone}.`,
    blocks,
  };
}

/** The digest as Markdown (docs/metrics.md#digest). */
export function renderDigestMarkdown(d: DigestPage): string {
  const money = (v: number | null) => formatMoney(v, d.minorDigits, d.currency);
  const t = digestTables(d);
  const md = (x: Table) => mdTable(x.head, x.rows);
  const out: string[] = [];
  out.push(`# Retain digest — ${d.month}`, '');
  out.push(`As of ${asOfDay(d)} (inclusive). Definitions: docs/metrics.md.`, '');
  for (const n of d.notes) out.push(`> ${n}`);
  if (d.notes.length) out.push('');
  out.push('## Headline', '');
  out.push(md(t.headline), '');
  out.push('## Net revenue, last 13 months', '');
  out.push(
    mdTable(
      ['Month', 'Net revenue', 'Customers'],
      d.trend.map((t) => [t.month, money(t.netRevenueMinor), String(t.customers)]),
    ),
    '',
  );
  out.push('## Cohorts (share of each monthly cohort ordering k months later)', '');
  const maxK = Math.max(0, ...d.cohorts.map((c) => c.retention.length));
  out.push(
    mdTable(
      ['Cohort', 'Size', ...Array.from({ length: maxK }, (_, k) => `k=${k}`), 'Revenue/customer'],
      d.cohorts.map((c) => [
        c.cohort,
        String(c.size),
        ...Array.from({ length: maxK }, (_, k) => (k < c.retention.length ? pct(c.retention[k]!, 0) : '')),
        money(c.cumulativeRevenuePerCustomer[c.cumulativeRevenuePerCustomer.length - 1] ?? null),
      ]),
    ),
    '',
  );
  out.push('## Diagnosis: revenue per customer vs previous month', '');
  const dg = d.diagnosis;
  if (!dg.change) out.push(dg.note ?? 'not available', '');
  else {
    out.push(
      `Revenue per customer went from ${money(dg.base.revenuePerCustomerMinor)} to ${money(dg.current.revenuePerCustomerMinor)} ` +
        `(${signedPct(dg.change.relative)}, ${money(dg.change.roundedMinor)}).`,
      '',
    );
    out.push(md(t.effects), '');
  }
  out.push('## Segments that drove the change', '');
  out.push('**Top**', '');
  out.push(t.top.rows.length ? md(t.top) : 'none', '');
  out.push('**Bottom**', '');
  out.push(t.bottom.rows.length ? md(t.bottom) : 'none', '');
  out.push('## RFM segments at month end', '');
  out.push(md(t.rfm), '');
  const campaigns = campaignSection(d);
  if (campaigns) {
    out.push('## Campaigns', '', campaigns.intro, '');
    for (const b of campaigns.blocks) {
      out.push(`### ${b.title}`, '', b.lead, '', md(b.arms), '');
      if (b.effects) out.push(md(b.effects), '');
      if (b.verdicts.length) out.push(...b.verdicts.map((v) => `- ${v}`), '');
      if (b.total) out.push(b.total, '');
      for (const w of b.warnings) out.push(`> ${w}`, '');
    }
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- HTML + SVG

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

/** Bar chart of net revenue per month; the current month and the same month last year highlighted. */
export function trendSvg(d: DigestData): string {
  const w = 640;
  const h = 220;
  const pad = { l: 10, r: 10, t: 20, b: 40 };
  const n = d.trend.length;
  const max = Math.max(1, ...d.trend.map((t) => t.netRevenueMinor));
  const min = Math.min(0, ...d.trend.map((t) => t.netRevenueMinor));
  const plotH = h - pad.t - pad.b;
  const y = (v: number) => pad.t + ((max - v) / (max - min)) * plotH;
  const bw = (w - pad.l - pad.r) / n;
  const bars = d.trend
    .map((t, i) => {
      const x = pad.l + i * bw + bw * 0.1;
      const top = Math.min(y(t.netRevenueMinor), y(0));
      const height = Math.abs(y(t.netRevenueMinor) - y(0));
      const fill = i === n - 1 ? '#1f6feb' : i === 0 ? '#8957e5' : '#9aa7b4';
      const label = `${t.month}: ${formatMoney(t.netRevenueMinor, d.minorDigits, d.currency)}`;
      return (
        `<rect x="${f1(x)}" y="${f1(top)}" width="${f1(bw * 0.8)}" height="${f1(height)}" fill="${fill}"><title>${escapeHtml(label)}</title></rect>` +
        `<text x="${f1(x + bw * 0.4)}" y="${h - pad.b + 14}" font-size="10" text-anchor="middle">${escapeHtml(t.month.slice(2))}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Net revenue per month">` +
    `<line x1="${pad.l}" x2="${w - pad.r}" y1="${f1(y(0))}" y2="${f1(y(0))}" stroke="#444"/>${bars}</svg>`
  );
}

/** Cohort retention heatmap: one row per cohort, one cell per k, darker = higher retention. */
export function cohortSvg(d: DigestData): string {
  const cell = 34;
  const labelW = 70;
  const rows = d.cohorts.length;
  const cols = Math.max(1, ...d.cohorts.map((c) => c.retention.length));
  const w = labelW + cols * cell + 10;
  const h = 20 + rows * cell + 10;
  const parts: string[] = [];
  for (let k = 0; k < cols; k++) {
    parts.push(
      `<text x="${labelW + k * cell + cell / 2}" y="14" font-size="10" text-anchor="middle">k=${k}</text>`,
    );
  }
  d.cohorts.forEach((c, i) => {
    const yy = 20 + i * cell;
    parts.push(
      `<text x="${labelW - 6}" y="${yy + cell / 2 + 4}" font-size="11" text-anchor="end">${escapeHtml(c.cohort)}</text>`,
    );
    c.retention.forEach((r, k) => {
      // k = 0 is always 100%; scale the others over 0–60% so typical retention is visible.
      const intensity = k === 0 ? 1 : Math.min(1, r / 0.6);
      const light = Math.round(95 - intensity * 55);
      parts.push(
        `<rect x="${labelW + k * cell}" y="${yy}" width="${cell - 2}" height="${cell - 2}" fill="hsl(212,70%,${light}%)"><title>${escapeHtml(`${c.cohort} k=${k}: ${pct(r)}`)}</title></rect>` +
          `<text x="${labelW + k * cell + cell / 2 - 1}" y="${yy + cell / 2 + 3}" font-size="9" text-anchor="middle" fill="${light < 60 ? '#fff' : '#222'}">${Math.round(r * 100)}</text>`,
      );
    });
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Cohort retention">${parts.join('')}</svg>`;
}

/** Waterfall of the decomposition: base RPC, one step per effect, current RPC. */
export function waterfallSvg(d: DigestData): string {
  const dg = d.diagnosis;
  if (!dg.change) return '';
  const base = roundHalfAway(dg.base.revenuePerCustomerMinor!);
  const steps = [
    { label: 'previous', from: 0, to: base, kind: 'total' },
    ...(() => {
      let level = base;
      return dg.parts.map((p) => {
        const s = { label: EFFECT_LABELS[p.effect]!, from: level, to: level + p.roundedMinor, kind: 'step' };
        level += p.roundedMinor;
        return s;
      });
    })(),
    { label: 'current', from: 0, to: base + dg.change.roundedMinor, kind: 'total' },
  ];
  const w = 640;
  const h = 260;
  const pad = { l: 10, r: 10, t: 20, b: 70 };
  const values = steps.flatMap((s) => [s.from, s.to]);
  const max = Math.max(1, ...values);
  const min = Math.min(0, ...values);
  const y = (v: number) => pad.t + ((max - v) / (max - min)) * (h - pad.t - pad.b);
  const bw = (w - pad.l - pad.r) / steps.length;
  const body = steps
    .map((s, i) => {
      const x = pad.l + i * bw + bw * 0.15;
      const top = Math.min(y(s.from), y(s.to));
      const height = Math.max(1, Math.abs(y(s.to) - y(s.from)));
      const fill = s.kind === 'total' ? '#1f6feb' : s.to >= s.from ? '#2da44e' : '#cf222e';
      const amount = formatMoney(s.kind === 'total' ? s.to : s.to - s.from, d.minorDigits, d.currency);
      return (
        `<rect x="${f1(x)}" y="${f1(top)}" width="${f1(bw * 0.7)}" height="${f1(height)}" fill="${fill}"><title>${escapeHtml(`${s.label}: ${amount}`)}</title></rect>` +
        `<text transform="translate(${f1(x + bw * 0.35)},${h - pad.b + 10}) rotate(30)" font-size="10">${escapeHtml(s.label)}</text>`
      );
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="Revenue per customer change by effect">${body}</svg>`;
}

function htmlTable(head: string[], rows: string[][]): string {
  const th = head.map((x) => `<th>${escapeHtml(x)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((x) => `<td>${escapeHtml(x)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/** The digest as one self-contained HTML page (inline CSS and SVG, no scripts or external assets). */
export function renderDigestHtml(d: DigestPage): string {
  const money = (v: number | null) => formatMoney(v, d.minorDigits, d.currency);
  const dg = d.diagnosis;
  const t = digestTables(d);
  const html = (x: Table) => htmlTable(x.head, x.rows);
  const sections: string[] = [];
  sections.push(`<h1>Retain digest — ${escapeHtml(d.month)}</h1>`);
  sections.push(
    `<p class="muted">As of ${escapeHtml(asOfDay(d))} (inclusive). Definitions: docs/metrics.md.</p>`,
  );
  for (const n of d.notes) sections.push(`<p class="note">${escapeHtml(n)}</p>`);
  sections.push('<h2>Headline</h2>');
  sections.push(html(t.headline));
  sections.push('<h2>Net revenue, last 13 months</h2>', trendSvg(d));
  sections.push('<h2>Cohort retention (%)</h2>', cohortSvg(d));
  sections.push('<h2>Diagnosis: revenue per customer vs previous month</h2>');
  if (!dg.change) sections.push(`<p>${escapeHtml(dg.note ?? 'not available')}</p>`);
  else {
    sections.push(
      `<p>Revenue per customer went from ${escapeHtml(money(dg.base.revenuePerCustomerMinor))} to ${escapeHtml(
        money(dg.current.revenuePerCustomerMinor),
      )} (${escapeHtml(signedPct(dg.change.relative))}, ${escapeHtml(money(dg.change.roundedMinor))}).</p>`,
      waterfallSvg(d),
      html(t.effects),
    );
  }
  sections.push('<h2>Segments that drove the change</h2>');
  sections.push('<h3>Top</h3>', t.top.rows.length ? html(t.top) : '<p>none</p>');
  sections.push('<h3>Bottom</h3>', t.bottom.rows.length ? html(t.bottom) : '<p>none</p>');
  sections.push('<h2>RFM segments at month end</h2>');
  sections.push(html(t.rfm));
  const campaigns = campaignSection(d);
  if (campaigns) {
    sections.push('<h2>Campaigns</h2>', `<p class="muted">${escapeHtml(campaigns.intro)}</p>`);
    for (const b of campaigns.blocks) {
      sections.push(`<h3>${escapeHtml(b.title)}</h3>`, `<p>${escapeHtml(b.lead)}</p>`, html(b.arms));
      if (b.effects) sections.push(html(b.effects));
      if (b.verdicts.length)
        sections.push(`<ul>${b.verdicts.map((v) => `<li>${escapeHtml(v)}</li>`).join('')}</ul>`);
      if (b.total) sections.push(`<p>${escapeHtml(b.total)}</p>`);
      for (const w of b.warnings) sections.push(`<p class="note">${escapeHtml(w)}</p>`);
    }
  }
  const css =
    'body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:900px;margin:2rem auto;padding:0 1rem;color:#1f2328}' +
    'table{border-collapse:collapse;margin:0.5rem 0 1.5rem}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right}' +
    'th:first-child,td:first-child{text-align:left}thead{background:#f6f8fa}.muted{color:#656d76}.note{background:#fff8c5;padding:6px 10px}' +
    'svg{display:block;margin:0.5rem 0 1.5rem;max-width:100%;height:auto}';
  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Retain digest — ${escapeHtml(d.month)}</title>\n` +
    `<style>${css}</style>\n</head>\n<body>\n${sections.join('\n')}\n</body>\n</html>\n`
  );
}
