import { calendarOf } from '../../analytics/calendar.js';
import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { newDiscountCode } from '../../shared/discountCode.js';
import { minorDigits } from '../../shared/money.js';
import { DAY_MS } from '../../shared/time.js';
import {
  dropQueuedSends,
  getTemplate,
  holdSends,
  notifyDelivery,
  pendingSends,
  queueSendTo,
  releaseSends,
  templateForSend,
  type SendRecipient,
} from '../messaging/service.js';
import { formatMoney } from '../reports/digestFormat.js';
import { countSegment, memberIdsOf } from '../segments/service.js';
import { getStore } from '../settings/service.js';
import { armOf } from './assign.js';
import * as repo from './repository.js';
import {
  CampaignInput,
  CampaignSchedule,
  CodesInput,
  Offer,
  StopRule,
  type Campaign,
  type CampaignStatus,
} from './schema.js';

/**
 * Campaigns (issue 25; docs/campaigns.md): a saved segment or an ad-hoc rule, A/B/n variants each with
 * its template, share, offer (a unique discount code per recipient) and send time, and a holdout that
 * gets nothing. The audience is assigned once — by a stable hash of customer and campaign — when the
 * campaign is launched, or at its scheduled time; in that one transaction the status moves (the claim:
 * of two launches at once exactly one assigns), every recipient's arm and code is written and every
 * variant's messages are queued through the messaging send path (consent, suppressions, caps and quiet
 * hours checked when due; each message keyed by campaign, variant and customer, so it is sent at most
 * once). Pausing holds the queued messages (nothing is claimed until resumed); cancelling ends them.
 */

export const sourceOf = (name: string) => `campaign:${name}`;

const parseJson = <T>(text: string | null, schema: { parse(v: unknown): T }): T | null =>
  text === null ? null : schema.parse(JSON.parse(text));

async function campaignOut(ctx: ModuleContext, r: repo.CampaignRow): Promise<Campaign> {
  return {
    id: r.campaign_id,
    name: r.name,
    segment: r.segment,
    rule: r.rule === null ? null : (JSON.parse(r.rule) as unknown),
    channel: r.channel,
    holdoutShare: r.holdout_share,
    windowDays: r.window_days,
    clickWindowDays: r.click_days,
    stop: StopRule.parse(JSON.parse(r.stop_rule)),
    schedule: parseJson(r.schedule, CampaignSchedule),
    status: r.status,
    sendAt: r.send_at?.toISOString() ?? null,
    problem: r.problem,
    variants: (await repo.variantsOf(ctx.db, r.campaign_id)).map((v) => ({
      key: v.variant,
      template: v.template,
      share: v.share,
      offer: parseJson(v.offer, Offer),
      schedule: parseJson(v.schedule, CampaignSchedule),
    })),
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    launchedAt: r.launched_at?.toISOString() ?? null,
    pausedAt: r.paused_at?.toISOString() ?? null,
    doneAt: r.done_at?.toISOString() ?? null,
    pending: r.launched_at ? await pendingSends(ctx.db, sourceOf(r.name)) : 0,
  };
}

/** The campaign's audience now: the internal ids of its segment's (or rule's) members. */
export async function audienceOf(ctx: ModuleContext, c: repo.CampaignRow): Promise<number[]> {
  return memberIdsOf(
    ctx,
    c.segment !== null ? { name: c.segment } : { rule: JSON.parse(c.rule!) as unknown },
  );
}

async function requireCampaign(ctx: ModuleContext, name: string): Promise<repo.CampaignRow> {
  const r = await repo.campaignByName(ctx.db, name);
  if (!r) throw new AppError('not_found', `no campaign named '${name}'`, { where: { field: 'name' } });
  return r;
}

const reread = async (ctx: ModuleContext, name: string) =>
  campaignOut(ctx, (await repo.campaignByName(ctx.db, name))!);

/** Whether a template's source shows the code (a variant with an offer that never shows it is a mistake). */
const showsCode = (source: unknown) => /discount_code|offer\s*\.\s*code/.test(JSON.stringify(source));

/**
 * `POST /v1/campaigns`, `retain campaigns create`: a draft. Refused, writing nothing: shares that do not
 * add up to 1 with the holdout, an unknown segment or a bad rule (the segments' errors, naming the path),
 * an unknown template, variants on different channels, an offer whose template never shows the code, an
 * amount offer without a store currency, a schedule in the past, a name taken (409).
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
  const now = ctx.clock.now();
  const channels = new Set<string>();
  const store = await getStore(ctx);
  const pastAt = (s: CampaignSchedule | undefined, field: string) => {
    if (s?.at !== undefined && new Date(s.at).getTime() <= now.getTime())
      throw new AppError('validation', `${s.at} has passed: schedule a time after ${now.toISOString()}`, {
        where: { field },
      });
  };
  pastAt(c.schedule, 'schedule.at');
  for (const [i, v] of c.variants.entries()) {
    const t = await getTemplate(ctx, { name: v.template }).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'not_found')
        throw new AppError('validation', `no template named '${v.template}'`, {
          where: { field: `variants.${i}.template` },
        });
      throw err;
    });
    channels.add(t.channel);
    pastAt(v.schedule, `variants.${i}.schedule.at`);
    if (v.offer) {
      if (!showsCode(t.source))
        throw new AppError(
          'validation',
          `variant ${v.key} has an offer but its template '${v.template}' never shows the code: add {{ discount_code }} (or {{ offer.code }})`,
          { where: { field: `variants.${i}.offer` } },
        );
      if (v.offer.kind === 'amount' && !store.currency)
        throw new AppError(
          'validation',
          'an amount off needs the store currency: set it first (retain store set)',
          {
            where: { field: `variants.${i}.offer.kind` },
          },
        );
      if (v.offer.expiresAt && new Date(v.offer.expiresAt).getTime() <= now.getTime())
        throw new AppError('validation', `the offer expires at ${v.offer.expiresAt}, which has passed`, {
          where: { field: `variants.${i}.offer.expiresAt` },
        });
    }
  }
  if (channels.size > 1)
    throw new AppError(
      'validation',
      `the variants' templates are on different channels (${[...channels].join(', ')}): a campaign sends on one`,
      { where: { field: 'variants' } },
    );
  const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
  const id = await ctx.db.transaction(async (tx) => {
    const id = await repo.insertCampaign(tx, {
      name: c.name,
      segment: c.segment ?? null,
      rule: json(c.rule),
      channel: [...channels][0]!,
      holdoutShare: c.holdoutShare,
      windowDays: c.windowDays,
      clickDays: c.clickWindowDays,
      stopRule: JSON.stringify(c.stop),
      schedule: json(c.schedule),
      now,
      by,
    });
    if (id === null) return null;
    for (const v of c.variants)
      await repo.insertVariant(tx, {
        campaignId: id,
        key: v.key,
        template: v.template,
        share: v.share,
        offer: json(v.offer),
        schedule: json(v.schedule),
      });
    return id;
  });
  if (id === null)
    throw new AppError('conflict', `a campaign named '${c.name}' exists`, { where: { field: 'name' } });
  return reread(ctx, c.name);
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
  /** Messages queued by this call, and those queued before (a repeated launch). */
  queued: number;
  alreadyQueued: number;
}

/** When one recipient's message is due: the variant's schedule, else the campaign's, else now. */
function dueOf(schedule: CampaignSchedule | null, zone: string, now: Date): Date {
  if (!schedule) return now;
  if (schedule.at !== undefined) return new Date(schedule.at);
  return new Date(calendarOf(zone).instantOfWall(Date.parse(`${schedule.localTime!}:00Z`)));
}

interface VariantPlan {
  key: string;
  share: number;
  template: string;
  offer: Offer | null;
  schedule: CampaignSchedule | null;
}

const variantPlans = async (ctx: ModuleContext, c: repo.CampaignRow): Promise<VariantPlan[]> => {
  const own = parseJson(c.schedule, CampaignSchedule);
  return (await repo.variantsOf(ctx.db, c.campaign_id)).map((v) => ({
    key: v.variant,
    share: v.share,
    template: v.template,
    offer: parseJson(v.offer, Offer),
    schedule: parseJson(v.schedule, CampaignSchedule) ?? own,
  }));
};

const newCode = newDiscountCode;

/**
 * Assigns the audience and queues every variant, in one transaction whose first statement claims the
 * campaign (draft or due → sending): a second launch, or the sweep at the same moment, finds it claimed
 * and writes nothing. Throws (writing nothing) when a variant's code list is short.
 */
async function assignAndQueue(ctx: ModuleContext, c: repo.CampaignRow): Promise<LaunchResult | null> {
  const variants = await variantPlans(ctx, c);
  const templates = new Map<string, Awaited<ReturnType<typeof templateForSend>>>();
  for (const v of variants) templates.set(v.key, await templateForSend(ctx, v.template));
  const store = await getStore(ctx);
  const ids = await audienceOf(ctx, c);
  // Each customer's zone, when some variant sends at a local time.
  const zones = variants.some((v) => v.schedule?.localTime !== undefined)
    ? await repo.timeZonesOf(ctx.db, ids)
    : new Map<number, string | null>();
  const now = ctx.clock.now();
  const audience = ids.map((id) => ({
    customerId: id,
    arm: armOf(c.campaign_id, id, c.holdout_share, variants),
  }));
  const byArm = new Map<string, number[]>();
  for (const a of audience) {
    const list = byArm.get(a.arm);
    if (list) list.push(a.customerId);
    else byArm.set(a.arm, [a.customerId]);
  }
  // Imported code lists: enough for every recipient of the variant, or nothing is written.
  const lists = new Map<string, string[]>();
  for (const v of variants)
    if (v.offer?.codes === 'list') {
      const need = byArm.get(v.key)?.length ?? 0;
      const have = await repo.unassignedCodes(ctx.db, c.campaign_id, v.key);
      if (have.length < need)
        throw new AppError(
          'conflict',
          `variant ${v.key} needs ${need} codes and ${have.length} unused are imported: import ${need - have.length} more (retain campaigns codes ${c.name} --variant ${v.key} --file …)`,
          { where: { field: `variants.${variants.indexOf(v)}.offer.codes` } },
        );
      lists.set(v.key, have.slice(0, need));
    }
  const digits = store.currency ? minorDigits(store.currency) : 2;
  const result = await ctx.db.transaction(async (tx) => {
    if (!(await repo.claimLaunch(tx, c.campaign_id, now))) return null;
    await repo.insertRecipients(tx, c.campaign_id, audience, now);
    let queued = 0;
    for (const v of variants) {
      const members = byArm.get(v.key) ?? [];
      const recipients: SendRecipient[] = members.map((customerId) => {
        const zone = zones.get(customerId) ?? store.timeZone;
        return { customerId, notBefore: dueOf(v.schedule, zone, now) };
      });
      if (v.offer) {
        const offer = v.offer;
        const expiry = (r: SendRecipient) =>
          offer.expiresAt
            ? new Date(offer.expiresAt)
            : new Date(Math.max(now.getTime(), r.notBefore!.getTime()) + offer.validDays! * DAY_MS);
        const codes = new Map<number, string>();
        if (offer.codes === 'list') {
          const list = lists.get(v.key)!;
          members.forEach((id, i) => codes.set(id, list[i]!));
          await repo.deleteCodes(tx, list);
        }
        // Generated codes: new random ones for whoever's code is already taken, until all are written.
        let missing = recipients;
        for (let round = 0; missing.length > 0; round++) {
          if (round === 5) throw new AppError('internal', 'could not generate unique discount codes');
          if (offer.codes === 'generate')
            for (const r of missing) codes.set(r.customerId, newCode(offer.prefix ?? ''));
          const written = await repo.insertCodes(
            tx,
            missing.map((r) => ({
              code: codes.get(r.customerId)!,
              campaignId: c.campaign_id,
              variant: v.key,
              customerId: r.customerId,
              expiresAt: expiry(r),
              importedAt: offer.codes === 'list' ? now : null,
              assignedAt: now,
            })),
          );
          missing = missing.filter((r) => !written.has(codes.get(r.customerId)!));
          if (offer.codes === 'list' && missing.length > 0)
            throw new AppError('conflict', `code ${codes.get(missing[0]!.customerId)} was taken meanwhile`);
        }
        const valueText =
          offer.kind === 'percent' ? `${offer.value}%` : formatMoney(offer.value, digits, store.currency);
        for (const r of recipients) {
          const code = codes.get(r.customerId)!;
          const zone = zones.get(r.customerId) ?? store.timeZone;
          const expires = expiry(r);
          r.variables = {
            discount_code: code,
            offer: {
              code,
              kind: offer.kind,
              value: offer.value,
              value_text: valueText,
              expires_at: expires.toISOString(),
              expires_on: calendarOf(zone).dayOfMs(expires.getTime()),
            },
          };
        }
      }
      if (recipients.length > 0)
        queued += await queueSendTo(ctx, tx, {
          template: templates.get(v.key)!,
          source: sourceOf(c.name),
          step: `variant-${v.key}`,
          occurrence: c.name,
          recipients,
        });
    }
    return queued;
  });
  if (result === null) return null;
  notifyDelivery(ctx);
  const arms: Record<string, number> = { holdout: byArm.get('holdout')?.length ?? 0 };
  for (const v of variants) arms[v.key] = byArm.get(v.key)?.length ?? 0;
  return {
    campaign: await reread(ctx, c.name),
    recipients: audience.length,
    arms,
    queued: result,
    alreadyQueued: 0,
  };
}

/** What a launch answers when the campaign was assigned before (or is not assigned yet). */
async function stateOf(ctx: ModuleContext, c: repo.CampaignRow): Promise<LaunchResult> {
  const variants = await repo.variantsOf(ctx.db, c.campaign_id);
  const arms: Record<string, number> = { holdout: 0 };
  for (const v of variants) arms[v.variant] = 0;
  let recipients = 0;
  for (const r of await repo.recipientsOf(ctx.db, c.campaign_id)) {
    arms[r.arm] = (arms[r.arm] ?? 0) + 1;
    recipients++;
  }
  const sends = await repo.sendsByStep(ctx.db, sourceOf(c.name));
  return {
    campaign: await campaignOut(ctx, c),
    recipients,
    arms,
    queued: 0,
    alreadyQueued: sends.reduce((s, r) => s + r.n, 0),
  };
}

/** The instant the audience is to be assigned: the earliest send of any variant in any zone of the audience. */
async function firstSendOf(ctx: ModuleContext, c: repo.CampaignRow, variants: VariantPlan[]) {
  const store = await getStore(ctx);
  const now = ctx.clock.now();
  const zones = new Set<string>([store.timeZone]);
  if (variants.some((v) => v.schedule?.localTime !== undefined))
    for (const z of (await repo.timeZonesOf(ctx.db, await audienceOf(ctx, c))).values()) if (z) zones.add(z);
  let first = Infinity;
  for (const v of variants)
    for (const zone of zones) {
      const at = dueOf(v.schedule, zone, now);
      if (v.schedule && at.getTime() <= now.getTime())
        throw new AppError(
          'validation',
          v.schedule.at !== undefined
            ? `${v.schedule.at} has passed: schedule a later time`
            : `${v.schedule.localTime} has already passed in ${zone}, where some of the audience live: schedule a local time that is still ahead everywhere (at least a day ahead is safe)`,
          { where: { field: 'schedule' } },
        );
      first = Math.min(first, at.getTime());
    }
  return new Date(first);
}

/**
 * `POST /v1/campaigns/{name}/launch`, `retain campaigns launch`: a draft with no schedule is assigned and
 * queued now; one with a schedule becomes `scheduled` (the sweep assigns it at its first send time, and
 * each message is due at its own time — a local time in the customer's zone). Repeating a launch changes
 * nothing and answers the state. Refused: a cancelled or paused campaign, a short code list.
 */
export async function launchCampaign(ctx: ModuleContext, { name }: { name: string }): Promise<LaunchResult> {
  const c = await requireCampaign(ctx, name);
  if (c.status === 'cancelled') throw new AppError('conflict', `campaign '${name}' was cancelled`);
  if (c.status === 'paused')
    throw new AppError(
      'conflict',
      `campaign '${name}' is paused: resume it (retain campaigns resume ${name})`,
    );
  if (c.status !== 'draft') return stateOf(ctx, c);
  const variants = await variantPlans(ctx, c);
  if (variants.every((v) => v.schedule === null))
    return (await assignAndQueue(ctx, c)) ?? stateOf(ctx, (await repo.campaignByName(ctx.db, name))!);
  const first = await firstSendOf(ctx, c, variants);
  // The code list is checked now too (the sweep checks it again when it assigns).
  for (const v of variants)
    if (v.offer?.codes === 'list' && (await repo.unassignedCodes(ctx.db, c.campaign_id, v.key)).length === 0)
      throw new AppError(
        'conflict',
        `variant ${v.key} takes codes from a list and none is imported: retain campaigns codes ${name} --variant ${v.key} --file …`,
        { where: { field: `variants.${variants.indexOf(v)}.offer.codes` } },
      );
  await ctx.db.transaction((tx) => repo.markScheduled(tx, c.campaign_id, first));
  return stateOf(ctx, (await repo.campaignByName(ctx.db, name))!);
}

/**
 * The campaigns' minute (`campaigns.sweep`, `retain campaigns sweep`): assigns the scheduled campaigns
 * whose time has come (one that cannot — a short code list, a template removed — is paused with the
 * problem stated, for the owner to fix and resume), and marks a sending campaign done once none of its
 * messages is left to deliver.
 */
export async function sweepCampaigns(ctx: ModuleContext) {
  const out = { started: [] as string[], paused: [] as string[], done: [] as string[] };
  for (const c of await repo.dueScheduled(ctx.db, ctx.clock.now())) {
    try {
      if (await assignAndQueue(ctx, c)) out.started.push(c.name);
    } catch (err) {
      if (!(err instanceof AppError) || err.code === 'internal') throw err;
      const problem = err.message;
      await ctx.db.transaction((tx) => repo.markPaused(tx, c.campaign_id, ctx.clock.now(), problem));
      ctx.log.warn({ campaign: c.name, problem }, 'campaign paused: it could not start');
      out.paused.push(c.name);
    }
  }
  for (const c of await repo.campaignsSending(ctx.db))
    if ((await pendingSends(ctx.db, sourceOf(c.name))) === 0)
      if (await ctx.db.transaction((tx) => repo.markDone(tx, c.campaign_id, ctx.clock.now())))
        out.done.push(c.name);
  return out;
}

const moveError = (name: string, status: CampaignStatus, action: string, allowed: string) =>
  new AppError('conflict', `campaign '${name}' is ${status}: only ${allowed} campaign can be ${action}`);

/** `POST /v1/campaigns/{name}/pause`: nothing more is handed to a provider until it is resumed. */
export async function pauseCampaign(ctx: ModuleContext, { name }: { name: string }): Promise<Campaign> {
  const c = await requireCampaign(ctx, name);
  const ok = await ctx.db.transaction(async (tx) => {
    if (!(await repo.markPaused(tx, c.campaign_id, ctx.clock.now(), null))) return false;
    await holdSends(tx, sourceOf(name), ctx.clock.now(), 'campaign paused');
    return true;
  });
  if (!ok) {
    const now = (await repo.campaignByName(ctx.db, name))!;
    if (now.status !== 'paused') throw moveError(name, now.status, 'paused', 'a scheduled or sending');
  }
  return reread(ctx, name);
}

/**
 * `POST /v1/campaigns/{name}/resume`: the held messages go out (those whose time passed meanwhile, at
 * once); a campaign paused before its start is scheduled again, and started now when its time has passed.
 */
export async function resumeCampaign(ctx: ModuleContext, { name }: { name: string }): Promise<Campaign> {
  const c = await requireCampaign(ctx, name);
  const ok = await ctx.db.transaction(async (tx) => {
    if (!(await repo.markResumed(tx, c.campaign_id))) return false;
    await releaseSends(tx, sourceOf(name));
    return true;
  });
  if (!ok) {
    if (c.status === 'scheduled' || c.status === 'sending') return reread(ctx, name);
    throw moveError(name, c.status, 'resumed', 'a paused');
  }
  notifyDelivery(ctx);
  const after = (await repo.campaignByName(ctx.db, name))!;
  if (after.status === 'scheduled' && after.send_at && after.send_at.getTime() <= ctx.clock.now().getTime())
    await assignAndQueue(ctx, after);
  return reread(ctx, name);
}

/** `POST /v1/campaigns/{name}/cancel`: messages not yet handed to a provider are not sent (skipped). */
export async function cancelCampaign(ctx: ModuleContext, { name }: { name: string }): Promise<Campaign> {
  const c = await requireCampaign(ctx, name);
  if (c.status === 'done') throw moveError(name, c.status, 'cancelled', 'an unfinished');
  await ctx.db.transaction(async (tx) => {
    if (!(await repo.markCancelled(tx, c.campaign_id, ctx.clock.now()))) return;
    await dropQueuedSends(tx, sourceOf(name), ctx.clock.now(), 'campaign cancelled');
    await releaseSends(tx, sourceOf(name));
  });
  return reread(ctx, name);
}

/**
 * `POST /v1/campaigns/{name}/codes`, `retain campaigns codes`: a store's own codes for a variant whose
 * offer takes them from a list, before the campaign is assigned. Codes are trimmed and upper-cased
 * (shops compare them case-insensitively). Refused whole, naming the entry: an empty or malformed code,
 * a code twice in the list, a code some campaign has already.
 */
export async function importCodes(ctx: ModuleContext, { name, body }: { name: string; body: unknown }) {
  const parsed = CodesInput.safeParse(body ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'codes');
  const c = await requireCampaign(ctx, name);
  if (c.launched_at)
    throw new AppError('conflict', `campaign '${name}' is assigned already: its codes are given out`);
  if (c.status === 'cancelled') throw new AppError('conflict', `campaign '${name}' was cancelled`);
  const { variant, codes: raw } = parsed.data;
  const v = (await repo.variantsOf(ctx.db, c.campaign_id)).find((x) => x.variant === variant);
  if (!v)
    throw new AppError('validation', `campaign '${name}' has no variant ${variant}`, {
      where: { field: 'variant' },
    });
  if (parseJson(v.offer, Offer)?.codes !== 'list')
    throw new AppError(
      'validation',
      `variant ${variant}'s offer does not take codes from a list (offer.codes: 'list')`,
      {
        where: { field: 'variant' },
      },
    );
  const codes = raw.map((x) => x.trim().toUpperCase());
  const seen = new Map<string, number>();
  codes.forEach((code, i) => {
    if (!/^[A-Z0-9][A-Z0-9_-]{0,99}$/.test(code))
      throw new AppError(
        'validation',
        `'${raw[i]}' is not a discount code (letters, digits, - and _, at most 100)`,
        { where: { field: `codes[${i}]` } },
      );
    const j = seen.get(code);
    if (j !== undefined)
      throw new AppError('validation', `${code} repeats codes[${j}]`, { where: { field: `codes[${i}]` } });
    seen.set(code, i);
  });
  const taken = await repo.existingCodes(ctx.db, codes);
  const first = codes.findIndex((x) => taken.has(x));
  if (first >= 0)
    throw new AppError('conflict', `${codes[first]} is a code of a campaign already`, {
      where: { field: `codes[${first}]` },
    });
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const written = await repo.insertCodes(
      tx,
      codes.map((code) => ({
        code,
        campaignId: c.campaign_id,
        variant,
        customerId: null,
        expiresAt: null,
        importedAt: now,
        assignedAt: null,
      })),
    );
    // Taken between the check and the insert (another import at once): nothing of this one stays.
    if (written.size !== codes.length) {
      const lost = codes.findIndex((x) => !written.has(x));
      throw new AppError('conflict', `${codes[lost]} is a code of a campaign already`, {
        where: { field: `codes[${lost}]` },
      });
    }
  });
  const counts = (await repo.codeCounts(ctx.db, c.campaign_id)).find((r) => r.variant === variant)!;
  return { variant, imported: codes.length, available: counts.total - counts.assigned };
}

/** `GET /v1/campaigns/{name}/codes`, `retain campaigns codes-export`: every code with its recipient, value and expiry (for the shop). */
export async function listCodes(ctx: ModuleContext, { name }: { name: string }) {
  const c = await requireCampaign(ctx, name);
  const offers = new Map(
    (await repo.variantsOf(ctx.db, c.campaign_id)).map((v) => [v.variant, parseJson(v.offer, Offer)]),
  );
  return (await repo.codesOf(ctx.db, c.campaign_id)).map((r) => {
    const o = offers.get(r.variant);
    return {
      code: r.code,
      variant: r.variant,
      customer: r.customer,
      kind: o?.kind ?? null,
      value: o?.value ?? null,
      expiresAt: r.expires_at?.toISOString() ?? null,
    };
  });
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
