import {
  compareMeans,
  cuped,
  minimumDetectableEffect,
  requiredSampleSize,
  probabilityToBeatControl,
  srmCheck,
  verdict,
  type MeanComparison,
  type SrmResult,
} from '../../analytics/experiments/index.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { minorDigits } from '../../shared/money.js';
import { formatMoney } from '../reports/digestFormat.js';
import { getStore } from '../settings/service.js';
import * as repo from './repository.js';
import { audienceOf, sourceOf, windowOf } from './service.js';

/**
 * A campaign's report (`retain campaigns report`, `GET /v1/campaigns/{name}/report`): per arm the
 * recipients, the messages by status, orders and net revenue in the outcome window after the launch;
 * per variant the **incremental** revenue per recipient over the holdout with its 95 % interval
 * (Welch), the same with CUPED (each recipient's revenue in the same length of time before the launch
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
}

export interface VariantEffect {
  variant: string;
  /** Revenue per recipient, variant − holdout (minor units), Welch 95 % interval. */
  incremental: MeanComparison;
  /** The same on CUPED-adjusted revenue (null when the pre-period revenue does not vary). */
  cuped: (MeanComparison & { theta: number; varianceReduction: number }) | null;
  probabilityToBeatHoldout: number;
  /** Σ over the variant's recipients of the incremental revenue per recipient (minor units). */
  incrementalRevenueMinor: number;
  verdict: string;
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
    };
  });
  const notes: string[] = [];
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
