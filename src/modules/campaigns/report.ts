import {
  compareMeans,
  cuped,
  minimumDetectableEffect,
  mixingTau,
  requiredSampleSize,
  stopDecision,
  probabilityToBeatControl,
  srmCheck,
  verdict,
  type MeanComparison,
  type SrmResult,
  type StopDecisionKind,
} from '../../analytics/experiments/index.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { minorDigits } from '../../shared/money.js';
import { formatMoney } from '../reports/digestFormat.js';
import { getStore } from '../settings/service.js';
import * as repo from './repository.js';
import { StopRule } from './schema.js';
import { audienceOf, sourceOf, windowOf } from './service.js';

/**
 * A campaign's report (`retain campaigns report`, `GET /v1/campaigns/{name}/report`): per arm the
 * recipients, the messages by status, orders and net revenue in the outcome window after the launch;
 * per variant the **incremental** revenue per recipient over the holdout with its 95 % interval
 * (Welch, corrected for skewness: Hall 1992), the same with CUPED (each recipient's revenue in the same length of time before the launch
 * as the covariate), the probability the variant beats the holdout, and a plain-language verdict; the
 * split's sample-ratio check; and the minimum detectable effect of this split (docs/campaigns.md).
 * Revenue counts sale orders in the store currency, less their refunds, by the order's time.
 */

export interface ArmReport {
  arm: string;
  template: string | null;
  share: number;
  recipients: number;
  messages: Record<string, number>;
  orders: number;
  buyers: number;
  revenueMinor: number;
  revenuePerRecipientMinor: number | null;
  /** What recipients did with the messages (zeros for the holdout): counts of messages. */
  engagement: {
    sent: number;
    delivered: number;
    bounced: number;
    opened: number;
    clicked: number;
    unsubscribed: number;
  };
  /**
   * Orders the arm's messages are credited with — not incremental (the holdout's own orders show what
   * would have happened anyway): by the arm's unique codes, and within the click window of a first click.
   */
  attributed: {
    byCode: { orders: number; revenueMinor: number };
    byClick: { orders: number; revenueMinor: number; clickers: number };
  };
  /** Discount codes given to the arm's recipients. */
  codes: number;
}

export interface StopStatus {
  rule: 'fixed' | 'sequential';
  /** fixed: `wait` until the window ends, then `read`; sequential: the stop rule's decision. */
  decision: 'wait' | 'read' | StopDecisionKind;
  reason: string;
  /** sequential: the always-valid 95 % interval of the difference per recipient (valid at every look). */
  alwaysValid: { low: number; high: number; tau: number } | null;
}

export interface VariantEffect {
  variant: string;
  /** Revenue per recipient, variant − holdout (minor units), 95 % interval (Welch, skewness-corrected). */
  incremental: MeanComparison;
  /** The same on CUPED-adjusted revenue (null when the pre-period revenue does not vary). */
  cuped: (MeanComparison & { theta: number; varianceReduction: number }) | null;
  probabilityToBeatHoldout: number;
  /** Σ over the variant's recipients of the incremental revenue per recipient (minor units). */
  incrementalRevenueMinor: number;
  verdict: string;
  /** May the comparison be read now (the campaign's stop rule)? */
  stop: StopStatus;
}

export interface CampaignReport {
  campaign: string;
  currency: string | null;
  launchedAt: string;
  window: { start: string; end: string; days: number; complete: boolean };
  arms: ArmReport[];
  effects: VariantEffect[];
  sampleRatio: SrmResult | null;
  /** The smallest difference per recipient this split detects with 80 % power (from the holdout's spread). */
  minimumDetectableEffectMinor: number | null;
  notes: string[];
}

export async function campaignReport(
  ctx: ModuleContext,
  { name }: { name: string },
): Promise<CampaignReport> {
  const c = await repo.campaignByName(ctx.db, name);
  if (!c) throw new AppError('not_found', `no campaign named '${name}'`, { where: { field: 'name' } });
  const w = windowOf(c);
  if (!w) throw new AppError('conflict', `campaign '${name}' has not been launched: nothing to report yet`);
  const now = ctx.clock.now();
  const end = w.end.getTime() < now.getTime() ? w.end : now;
  const store = await getStore(ctx);
  const currency = store.currency;
  const digits = currency ? minorDigits(currency) : 2;
  const money = (m: number) => formatMoney(m, digits, currency);
  const rows = await repo.recipientRevenue(ctx.db, {
    campaignId: c.campaign_id,
    currency: currency ?? '',
    start: w.start,
    end,
    preStart: w.preStart,
  });
  const variants = await repo.variantsOf(ctx.db, c.campaign_id);
  const sends = await repo.sendsByStep(ctx.db, sourceOf(c.name));
  const engagement = new Map(
    (await repo.engagementBySteps(ctx.db, sourceOf(c.name))).map((r) => [r.step, r]),
  );
  const span = { campaignId: c.campaign_id, currency: currency ?? '', start: w.start, end };
  const byCode = new Map((await repo.attributedByCode(ctx.db, span)).map((r) => [r.arm, r]));
  const byClick = new Map(
    (
      await repo.attributedByClick(ctx.db, ctx.db.dialect, {
        ...span,
        source: sourceOf(c.name),
        clickDays: c.click_days,
      })
    ).map((r) => [r.arm, r]),
  );
  const codes = new Map((await repo.codeCounts(ctx.db, c.campaign_id)).map((r) => [r.variant, r.assigned]));
  const armNames = ['holdout', ...variants.map((v) => v.variant)];
  const by = new Map<string, { revenue: number[]; pre: number[]; orders: number; buyers: number }>();
  for (const a of armNames) by.set(a, { revenue: [], pre: [], orders: 0, buyers: 0 });
  for (const r of rows) {
    const a = by.get(r.arm);
    if (!a) continue;
    a.revenue.push(r.revenue);
    a.pre.push(r.pre);
    a.orders += r.orders;
    if (r.orders > 0) a.buyers++;
  }
  const arms: ArmReport[] = armNames.map((arm) => {
    const a = by.get(arm)!;
    const v = variants.find((x) => x.variant === arm);
    const messages: Record<string, number> = {};
    for (const s of sends) if (s.step === `variant-${arm}`) messages[s.status] = s.n;
    const revenue = a.revenue.reduce((s, x) => s + x, 0);
    const e = engagement.get(`variant-${arm}`);
    const code = byCode.get(arm);
    const click = byClick.get(arm);
    return {
      arm,
      template: v?.template ?? null,
      share: v?.share ?? c.holdout_share,
      recipients: a.revenue.length,
      messages,
      orders: a.orders,
      buyers: a.buyers,
      revenueMinor: revenue,
      revenuePerRecipientMinor: a.revenue.length ? revenue / a.revenue.length : null,
      engagement: {
        sent: e?.sent ?? 0,
        delivered: e?.delivered ?? 0,
        bounced: e?.bounced ?? 0,
        opened: e?.opened ?? 0,
        clicked: e?.clicked ?? 0,
        unsubscribed: e?.unsubscribed ?? 0,
      },
      attributed: {
        byCode: { orders: code?.orders ?? 0, revenueMinor: code?.revenue ?? 0 },
        byClick: {
          orders: click?.orders ?? 0,
          revenueMinor: click?.revenue ?? 0,
          clickers: click?.clickers ?? 0,
        },
      },
      codes: codes.get(arm) ?? 0,
    };
  });
  const notes: string[] = [];
  const rule = StopRule.parse(JSON.parse(c.stop_rule));
  const holdout = by.get('holdout')!;
  const effects: VariantEffect[] = [];
  for (const v of variants) {
    const t = by.get(v.variant)!;
    if (holdout.revenue.length < 2 || t.revenue.length < 2) {
      notes.push(`variant ${v.variant}: fewer than 2 recipients in it or in the holdout, no comparison`);
      continue;
    }
    const incremental = compareMeans(holdout.revenue, t.revenue);
    let adjusted: VariantEffect['cuped'] = null;
    const cu = cuped([holdout.revenue, t.revenue], [holdout.pre, t.pre]);
    if (cu.theta !== 0)
      adjusted = {
        ...compareMeans(cu.stats[0]!, cu.stats[1]!),
        theta: cu.theta,
        varianceReduction: cu.varianceReduction,
      };
    const best = adjusted ?? incremental;
    const p = probabilityToBeatControl(holdout.revenue, t.revenue).probability;
    const stop = stopStatus(rule, holdout, t, {
      complete: end.getTime() >= w.end.getTime(),
      windowEnd: w.end,
      holdoutShare: c.holdout_share,
    });
    effects.push({
      variant: v.variant,
      incremental,
      cuped: adjusted,
      probabilityToBeatHoldout: p,
      incrementalRevenueMinor: Math.round(best.difference.estimate * t.revenue.length),
      verdict: verdict({
        interval: best.difference,
        variantName: `Variant ${v.variant}`,
        variantShortName: v.variant,
        formatMoney: money,
        probabilityToBeat: p,
      }),
      stop,
    });
  }
  const counts = arms.map((a) => a.recipients);
  const total = counts.reduce((s, n) => s + n, 0);
  const sampleRatio =
    total > 0
      ? srmCheck(
          counts,
          arms.map((a) => a.share),
        )
      : null;
  if (sampleRatio?.mismatch)
    notes.push(
      `the arms' sizes do not match the planned split (p = ${sampleRatio.pValue.toExponential(2)}): check the assignment before trusting the comparison`,
    );
  let mde: number | null = null;
  if (holdout.revenue.length >= 2 && total > 0) {
    const sd = Math.sqrt(compareMeans(holdout.revenue, holdout.revenue).control.variance);
    if (sd > 0)
      mde = minimumDetectableEffect({ n: total, holdoutShare: c.holdout_share, baselineSd: sd }).absolute;
  }
  const complete = end.getTime() >= w.end.getTime();
  if (!complete) notes.push(`the ${c.window_days}-day window is not over: figures so far`);
  return {
    campaign: c.name,
    currency,
    launchedAt: w.start.toISOString(),
    window: { start: w.start.toISOString(), end: end.toISOString(), days: c.window_days, complete },
    arms,
    effects,
    sampleRatio,
    minimumDetectableEffectMinor: mde,
    notes,
  };
}

/**
 * The campaign's stop rule at this look. `fixed`: the horizon (the outcome window) was stated up front;
 * the interval is read once, when it ends. `sequential`: the always-valid interval (a normal-mixture
 * confidence sequence) may be read every day; τ is fixed by data from before the launch — the spread of
 * the comparison's recipients' revenue over the same length of time before it — so no outcome shapes it.
 */
function stopStatus(
  rule: StopRule,
  holdout: { revenue: number[]; pre: number[] },
  variant: { revenue: number[]; pre: number[] },
  o: { complete: boolean; windowEnd: Date; holdoutShare: number },
): StopStatus {
  if (rule.kind === 'fixed')
    return {
      rule: 'fixed',
      decision: o.complete ? 'read' : 'wait',
      reason: o.complete
        ? 'the outcome window stated up front is over: the interval can be read'
        : `a fixed horizon: read the result when the window ends (${o.windowEnd.toISOString().slice(0, 10)}); stopping earlier on what the interval shows now inflates false wins`,
      alwaysValid: null,
    };
  const pre = [...holdout.pre, ...variant.pre];
  const mean = pre.reduce((s, x) => s + x, 0) / Math.max(1, pre.length);
  const sd = Math.sqrt(pre.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, pre.length - 1));
  const n = holdout.revenue.length + variant.revenue.length;
  const h = holdout.revenue.length / n;
  if (!(sd > 0) || !(h > 0 && h < 1))
    return {
      rule: 'sequential',
      decision: 'continue',
      reason:
        'no revenue before the launch to fix the sequential interval with: read it at the end of the window',
      alwaysValid: null,
    };
  const tau = mixingTau({ n, holdoutShare: h, baselineSd: sd });
  const minPerArm = Math.max(2, rule.minRecipients);
  const d = stopDecision(holdout.revenue, variant.revenue, { tau, minPerArm });
  const atEnd = o.complete && d.decision === 'continue' && d.interval !== null && n >= 2 * minPerArm;
  return {
    rule: 'sequential',
    decision: atEnd ? 'stop-no-difference-detectable' : d.decision,
    reason: atEnd ? 'the window is over and the always-valid interval still contains 0' : d.reason,
    alwaysValid: d.interval ? { low: d.interval.low, high: d.interval.high, tau } : null,
  };
}

export interface CampaignPlan {
  campaign: string;
  /** Members of the audience now (who a launch would assign). */
  audience: number;
  holdout: number;
  treatment: number;
  /** Revenue per member in the last `windowDays` (the baseline: what the holdout would buy). */
  baselineMeanMinor: number;
  baselineSdMinor: number;
  /** The smallest difference in revenue per recipient a variant must make to be detected (80 % power, α 0.05). */
  minimumDetectableEffectMinor: number | null;
  /** The same relative to the baseline (0.8 = +80 %); null without a baseline. */
  minimumDetectableEffectRelative: number | null;
  /** Recipients needed in all to detect +20 % of the baseline at this holdout share. */
  recipientsFor20Percent: number | null;
  summary: string;
}

/**
 * `GET /v1/campaigns/{name}/plan`, `retain campaigns plan`: before sending, what this audience and
 * holdout share can detect — the baseline revenue per member over the last `windowDays`, its spread,
 * and the minimum detectable effect per variant (each variant against the holdout, so the treatment
 * side is one variant's share).
 */
export async function campaignPlan(ctx: ModuleContext, { name }: { name: string }): Promise<CampaignPlan> {
  const c = await repo.campaignByName(ctx.db, name);
  if (!c) throw new AppError('not_found', `no campaign named '${name}'`, { where: { field: 'name' } });
  const store = await getStore(ctx);
  const currency = store.currency;
  const money = (m: number) => formatMoney(m, currency ? minorDigits(currency) : 2, currency);
  const ids = await audienceOf(ctx, c);
  const now = ctx.clock.now();
  const revenue = await repo.revenueOf(ctx.db, {
    customerIds: ids,
    currency: currency ?? '',
    from: new Date(now.getTime() - c.window_days * 86_400_000),
    to: now,
  });
  const variants = await repo.variantsOf(ctx.db, c.campaign_id);
  const smallest = Math.min(...variants.map((v) => v.share));
  // One variant against the holdout: n in the comparison = audience × (holdout + that variant's share).
  const n = ids.length * (c.holdout_share + smallest);
  const h = c.holdout_share / (c.holdout_share + smallest);
  const mean = revenue.length ? revenue.reduce((s, x) => s + x, 0) / revenue.length : 0;
  const sd =
    revenue.length > 1
      ? Math.sqrt(revenue.reduce((s, x) => s + (x - mean) ** 2, 0) / (revenue.length - 1))
      : 0;
  let mde: number | null = null;
  let relative: number | null = null;
  let needed: number | null = null;
  if (sd > 0 && n * h >= 2 && n * (1 - h) >= 2) {
    const r = minimumDetectableEffect({
      n,
      holdoutShare: h,
      baselineSd: sd,
      ...(mean > 0 ? { baselineMean: mean } : {}),
    });
    mde = r.absolute;
    relative = r.relative;
    if (mean > 0)
      needed = Math.ceil(
        requiredSampleSize({ holdoutShare: h, baselineSd: sd, baselineMean: mean, relativeEffect: 0.2 })
          .total /
          (c.holdout_share + smallest),
      );
  }
  const summary =
    mde === null
      ? `The audience (${ids.length}) or its past revenue is too small to plan a comparison.`
      : `${ids.length} members; each variant against the ${Math.round(c.holdout_share * 100)} % holdout can detect a difference of ${money(mde)} per recipient` +
        (relative !== null
          ? ` (${Math.round(relative * 100)} % of the ${money(mean)} a member spent in the last ${c.window_days} days)`
          : '') +
        ` with 80 % power.` +
        (needed !== null ? ` Detecting +20 % would take about ${needed.toLocaleString('en')} members.` : '');
  return {
    campaign: c.name,
    audience: ids.length,
    holdout: Math.round(ids.length * c.holdout_share),
    treatment: ids.length - Math.round(ids.length * c.holdout_share),
    baselineMeanMinor: mean,
    baselineSdMinor: sd,
    minimumDetectableEffectMinor: mde,
    minimumDetectableEffectRelative: relative,
    recipientsFor20Percent: needed,
    summary,
  };
}
