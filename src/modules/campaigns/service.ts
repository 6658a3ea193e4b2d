import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { DAY_MS } from '../../shared/time.js';
import { getTemplate, queueSend } from '../messaging/service.js';
import { allMembers, countSegment } from '../segments/service.js';
import { armOf } from './assign.js';
import * as repo from './repository.js';
import { CampaignInput, type Campaign } from './schema.js';

/**
 * Campaigns (issue 25; docs/campaigns.md): a saved segment or an ad-hoc rule, A/B/n variants each with
 * its template and share, and a holdout that gets nothing. Launching assigns every member once, by a
 * stable hash of customer and campaign, in one transaction, then queues each variant's messages through
 * the messaging send path (consent, suppressions, caps and quiet hours checked when due; each message
 * keyed by campaign, variant and customer, so it is sent at most once). A relaunch after a crash finds
 * the assignments made and the keys taken: nobody is assigned or messaged twice.
 */

export const sourceOf = (name: string) => `campaign:${name}`;

async function campaignOut(ctx: ModuleContext, r: repo.CampaignRow): Promise<Campaign> {
  return {
    id: r.campaign_id,
    name: r.name,
    segment: r.segment,
    rule: r.rule === null ? null : (JSON.parse(r.rule) as unknown),
    channel: r.channel,
    holdoutShare: r.holdout_share,
    windowDays: r.window_days,
    status: r.status,
    variants: (await repo.variantsOf(ctx.db, r.campaign_id)).map((v) => ({
      key: v.variant,
      template: v.template,
      share: v.share,
    })),
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    launchedAt: r.launched_at?.toISOString() ?? null,
  };
}

/** The campaign's audience now: the internal ids of its segment's (or rule's) members. */
export async function audienceOf(ctx: ModuleContext, c: repo.CampaignRow): Promise<number[]> {
  const shopIds: string[] = [];
  const members = allMembers(
    ctx,
    c.segment !== null ? { name: c.segment } : { rule: JSON.parse(c.rule!) as unknown },
  );
  for await (const m of members) shopIds.push(m.id);
  return [...(await repo.customerIdsOf(ctx.db, shopIds)).values()];
}

async function requireCampaign(ctx: ModuleContext, name: string): Promise<repo.CampaignRow> {
  const r = await repo.campaignByName(ctx.db, name);
  if (!r) throw new AppError('not_found', `no campaign named '${name}'`, { where: { field: 'name' } });
  return r;
}

/**
 * `POST /v1/campaigns`, `retain campaigns create`: a draft. Refused, writing nothing: shares that do not
 * add up to 1 with the holdout, an unknown segment or a bad rule (the segments' errors, naming the path),
 * an unknown template, variants on different channels, a name taken (409).
 */
export async function createCampaign(
  ctx: ModuleContext,
  input: unknown,
  by: string | null = null,
): Promise<Campaign> {
  const parsed = CampaignInput.safeParse(input ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'campaign');
  const c = parsed.data;
  // The audience must compile now (a bad rule or an unknown segment is the segments' 400/404).
  await countSegment(ctx, c.segment !== undefined ? { name: c.segment } : { rule: c.rule });
  const channels = new Set<string>();
  for (const [i, v] of c.variants.entries()) {
    const t = await getTemplate(ctx, { name: v.template }).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'not_found')
        throw new AppError('validation', `no template named '${v.template}'`, {
          where: { field: `variants.${i}.template` },
        });
      throw err;
    });
    channels.add(t.channel);
  }
  if (channels.size > 1)
    throw new AppError(
      'validation',
      `the variants' templates are on different channels (${[...channels].join(', ')}): a campaign sends on one`,
      {
        where: { field: 'variants' },
      },
    );
  const now = ctx.clock.now();
  const id = await ctx.db.transaction(async (tx) => {
    const id = await repo.insertCampaign(tx, {
      name: c.name,
      segment: c.segment ?? null,
      rule: c.rule === undefined ? null : JSON.stringify(c.rule),
      channel: [...channels][0]!,
      holdoutShare: c.holdoutShare,
      windowDays: c.windowDays,
      now,
      by,
    });
    if (id === null) return null;
    for (const v of c.variants)
      await repo.insertVariant(tx, { campaignId: id, key: v.key, template: v.template, share: v.share });
    return id;
  });
  if (id === null)
    throw new AppError('conflict', `a campaign named '${c.name}' exists`, { where: { field: 'name' } });
  return campaignOut(ctx, (await repo.campaignByName(ctx.db, c.name))!);
}

export async function getCampaign(ctx: ModuleContext, { name }: { name: string }): Promise<Campaign> {
  return campaignOut(ctx, await requireCampaign(ctx, name));
}

export async function listCampaigns(ctx: ModuleContext): Promise<Campaign[]> {
  const out: Campaign[] = [];
  for (const r of await repo.listCampaigns(ctx.db)) out.push(await campaignOut(ctx, r));
  return out;
}

export interface LaunchResult {
  campaign: Campaign;
  recipients: number;
  /** Recipients per arm (`holdout` and each variant key). */
  arms: Record<string, number>;
  /** Messages queued by this call, and those queued before (a relaunch). */
  queued: number;
  alreadyQueued: number;
}

/**
 * `POST /v1/campaigns/{name}/launch`, `retain campaigns launch`: assigns the audience (once: a relaunch
 * reuses the assignments) and queues every variant's messages (each key at most once). The holdout is
 * messaged nothing. Delivery is the messaging worker's (`retain send deliver`, `retain serve`).
 */
export async function launchCampaign(ctx: ModuleContext, { name }: { name: string }): Promise<LaunchResult> {
  const c = await requireCampaign(ctx, name);
  if (c.status === 'cancelled') throw new AppError('conflict', `campaign '${name}' was cancelled`);
  const variants = (await repo.variantsOf(ctx.db, c.campaign_id)).map((v) => ({
    key: v.variant,
    share: v.share,
    template: v.template,
  }));
  const now = ctx.clock.now();
  if ((await repo.recipientCount(ctx.db, c.campaign_id)) === 0) {
    const shopIds: string[] = [];
    const members = allMembers(
      ctx,
      c.segment !== null ? { name: c.segment } : { rule: JSON.parse(c.rule!) as unknown },
    );
    for await (const m of members) shopIds.push(m.id);
    const audience = [...(await repo.customerIdsOf(ctx.db, shopIds)).values()].map((id) => ({
      customerId: id,
      arm: armOf(c.campaign_id, id, c.holdout_share, variants),
    }));
    await ctx.db.transaction(async (tx) => {
      // Assigned once: a concurrent launch that got here first wins (the primary key), and the
      // status moves with the assignments.
      await repo.insertRecipients(tx, c.campaign_id, audience, now);
      await repo.setStatus(tx, c.campaign_id, 'sending', now);
    });
  }
  const recipients = await repo.recipientsOf(ctx.db, c.campaign_id);
  const arms: Record<string, number> = { holdout: 0 };
  for (const v of variants) arms[v.key] = 0;
  for (const r of recipients) arms[r.arm] = (arms[r.arm] ?? 0) + 1;
  let queued = 0;
  let alreadyQueued = 0;
  for (const v of variants) {
    const ids = recipients.filter((r) => r.arm === v.key).map((r) => r.external_id);
    for (let i = 0; i < ids.length; i += 10_000) {
      const r = await queueSend(ctx, {
        template: v.template,
        customers: ids.slice(i, i + 10_000),
        source: sourceOf(c.name),
        step: `variant-${v.key}`,
        occurrence: c.name,
      });
      queued += r.queued;
      alreadyQueued += r.alreadyQueued;
    }
  }
  return {
    campaign: await campaignOut(ctx, (await repo.campaignByName(ctx.db, name))!),
    recipients: recipients.length,
    arms,
    queued,
    alreadyQueued,
  };
}

/** `POST /v1/campaigns/{name}/cancel`: a draft or a send stops (messages not yet delivered are not). */
export async function cancelCampaign(ctx: ModuleContext, { name }: { name: string }): Promise<Campaign> {
  const c = await requireCampaign(ctx, name);
  if (c.status !== 'cancelled')
    await ctx.db.transaction((tx) => repo.setStatus(tx, c.campaign_id, 'cancelled', ctx.clock.now()));
  return campaignOut(ctx, (await repo.campaignByName(ctx.db, name))!);
}

export const windowOf = (c: repo.CampaignRow) => {
  const start = c.launched_at;
  return start
    ? {
        start,
        end: new Date(start.getTime() + c.window_days * DAY_MS),
        preStart: new Date(start.getTime() - c.window_days * DAY_MS),
      }
    : null;
};
