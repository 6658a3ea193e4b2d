import type { ModuleContext } from '../../kit/context.js';
import { validationError } from '../../kit/http/errors.js';
import {
  BANDS,
  SCORE_RANGE,
  bandOf,
  csat,
  isNegative,
  lowScoreEffect,
  nps,
  scoresBy,
  surveyThemes,
  valueByBand,
  windowOutcome,
  type Difference,
  type EffectGroup,
} from '../../analytics/surveys/index.js';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { parseInput } from '../../kit/http/input.js';
import { minorDigits } from '../../shared/money.js';
import { formatMoney } from '../reports/digestFormat.js';
import { AppError } from '../../shared/errors.js';
import { linkSecretOf, publicBase } from '../messaging/links.js';
import { langOf, type PageLang } from '../messaging/pages.js';
import {
  getPolicy,
  notifyDelivery,
  saveTemplate,
  sendKeyOf,
  queueSendTo,
  templateForSend,
} from '../messaging/service.js';
import { getStore } from '../settings/service.js';
import { customersByShopIds } from '../customers/repository.js';
import type { Queryable } from '../../storage/port.js';
import { addToTaskIn, checkAssignee, createTaskIn } from '../tasks/service.js';
import * as repo from './repository.js';
import {
  AnswersQuery,
  InviteInput,
  ResultsQuery,
  SurveyDefinition,
  SurveyName,
  type AnswersPageOut,
  type InviteResult,
  type Survey,
  type SurveyResults,
} from './schema.js';
import { newInvitationId, readToken, scoreToken, whyToken } from './tokens.js';
import { invitationTemplate, scoresOf, wordingOf } from './wording.js';

/**
 * Surveys (issue 27, docs/surveys.md): two questions — a score (NPS 0–10 or CSAT 1–5), one click from
 * the message, then "why" on a page in the contact's language. One answer per invitation (a second
 * click updates it); at most one invitation per customer per `throttleDays` (any survey); a low score or
 * unhappy words in "why" make a call task (round robin, due by the SLA); when that task is done the
 * customer is asked again.
 */

const DAY = 86_400_000;
export const FOLLOW_UP_JOB = 'surveys.follow-up';

function surveyOut(r: repo.SurveyDbRow): Survey {
  return {
    name: r.name,
    kind: r.kind,
    status: r.status,
    template: r.template,
    definition: JSON.parse(r.definition) as Record<string, unknown>,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

const definitionOf = (r: { definition: string }) => SurveyDefinition.parse(JSON.parse(r.definition));

async function surveyRow(ctx: ModuleContext, name: string) {
  const n = SurveyName.safeParse(name);
  if (!n.success)
    throw new AppError('validation', `not a survey name: '${name}'`, { where: { field: 'name' } });
  const r = await repo.surveyByName(ctx.db, name);
  if (!r) throw new AppError('not_found', `no survey named '${name}'`, { where: { field: 'name' } });
  return r;
}

/** Saves a survey and its invitation template (`survey-<name>`, a new version when it changed). */
export async function saveSurvey(ctx: ModuleContext, { body, by }: { body: unknown; by: string | null }) {
  const parsed = SurveyDefinition.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'survey');
  const d = parsed.data;
  if (d.lowScore)
    for (const [i, a] of d.lowScore.assignees.entries())
      await checkAssignee(ctx.db, a, `lowScore.assignees[${i}]`);
  const template = `survey-${d.name}`;
  await saveTemplate(ctx, { body: invitationTemplate(template, d), by });
  await ctx.db.transaction((tx) =>
    repo.saveSurvey(tx, {
      name: d.name,
      kind: d.kind,
      definition: JSON.stringify(d),
      template,
      now: ctx.clock.now(),
    }),
  );
  return getSurvey(ctx, { name: d.name });
}

export async function getSurvey(ctx: ModuleContext, { name }: { name: string }): Promise<Survey> {
  return surveyOut(await surveyRow(ctx, name));
}

export async function listSurveys(ctx: ModuleContext): Promise<Survey[]> {
  return (await repo.listSurveys(ctx.db)).map(surveyOut);
}

export async function archiveSurvey(ctx: ModuleContext, { name }: { name: string }): Promise<Survey> {
  await surveyRow(ctx, name);
  await ctx.db.transaction((tx) => repo.setSurveyStatus(tx, name, 'archived', ctx.clock.now()));
  return getSurvey(ctx, { name });
}

/** What sending a survey's invitations needs, read before the transaction that invites. */
export interface SurveySender {
  row: repo.SurveyDbRow;
  definition: SurveyDefinition;
  template: Awaited<ReturnType<typeof templateForSend>>;
  base: string;
  secret: string;
}

/**
 * A survey ready to invite with: refused when it is unknown or archived, when contacts cannot reach
 * retain's public address (the score links), or when its template cannot be sent.
 */
export async function surveyForSend(ctx: ModuleContext, name: string): Promise<SurveySender> {
  const row = await surveyRow(ctx, name);
  if (row.status !== 'active')
    throw new AppError('conflict', `survey '${name}' is archived: save it again to invite`);
  const base = publicBase((await getPolicy(ctx)).publicUrl);
  if (!base)
    throw new AppError(
      'validation',
      'survey links need the address contacts reach retain serve at: set the messaging policy publicUrl first',
      { where: { field: 'publicUrl' } },
    );
  return {
    row,
    definition: definitionOf(row),
    template: await templateForSend(ctx, row.template),
    base,
    secret: await linkSecretOf(ctx),
  };
}

/**
 * Invites customers (internal ids) in the caller's transaction: one invitation per survey × customer ×
 * occurrence with its message through the send path (consent, caps and quiet hours apply there). A
 * customer invited to any survey within `throttleDays` is not invited (a compare-and-set on the
 * customer's throttle row); `followUp` invitations skip the throttle but move it. `orderId`: the order
 * the invitation asks about (its products in the results). The caller wakes delivery when `invited`.
 */
export async function inviteIn(
  ctx: ModuleContext,
  tx: Queryable,
  s: SurveySender,
  q: {
    customerIds: readonly number[];
    occurrence: string;
    source?: string;
    followUp?: boolean;
    orderId?: number | null;
    now: Date;
  },
): Promise<{ invited: number; alreadyInvited: number; throttled: number }> {
  const { row, definition: d, template } = s;
  const now = q.now;
  const src = q.source ?? `survey:${row.name}`;
  const wanted = [...new Set(q.customerIds)];
  const ids = new Map(wanted.map((id) => [id, newInvitationId()]));
  const fresh = await repo.insertInvitations(
    tx,
    {
      surveyId: row.survey_id,
      occurrence: q.occurrence,
      source: src,
      channel: template.channel,
      now,
      expiresAt: new Date(now.getTime() + d.expiresDays * DAY),
      orderId: q.orderId ?? null,
    },
    [...ids].map(([customerId, invitationId]) => ({
      invitationId,
      customerId,
      sendKey: sendKeyOf(src, 'invite', customerId, q.occurrence),
    })),
  );
  const passed =
    q.followUp || d.throttleDays === 0
      ? fresh
      : await repo.claimThrottle(tx, [...fresh], now, new Date(now.getTime() - d.throttleDays * DAY));
  const throttled = [...fresh].filter((id) => !passed.has(id));
  await repo.deleteInvitations(tx, row.survey_id, q.occurrence, throttled);
  // A follow-up is not throttled but counts for the throttle: it moves the customer's time at once.
  if (q.followUp && passed.size > 0)
    await repo.claimThrottle(tx, [...passed], now, new Date('9999-12-31T00:00:00Z'));
  await queueSendTo(ctx, tx, {
    template,
    source: src,
    step: 'invite',
    occurrence: q.occurrence,
    recipients: [...passed].map((customerId) => ({
      customerId,
      variables: {
        survey: {
          name: row.name,
          scores: scoresOf(d.kind).map((score) => ({
            score,
            url: `${s.base}/s/${scoreToken(s.secret, ids.get(customerId)!, score)}`,
          })),
        },
      },
    })),
  });
  return { invited: passed.size, alreadyInvited: wanted.length - fresh.size, throttled: throttled.length };
}

/**
 * `POST /v1/surveys/{name}/invite`, `retain surveys invite`: invites customers (the store's ids; the id
 * of a customer merged into another invites the survivor) in one transaction ({@link inviteIn});
 * erased customers are skipped. `order` (with one customer): the order the survey asks about.
 */
export async function inviteToSurvey(
  ctx: ModuleContext,
  {
    name,
    body,
    source,
    followUp = false,
  }: { name: string; body: unknown; source?: string; followUp?: boolean },
): Promise<InviteResult> {
  const parsed = InviteInput.safeParse(body);
  if (!parsed.success) throw validationError(parsed.error, 'invitation');
  const req = parsed.data;
  const sender = await surveyForSend(ctx, name);
  const found = await customersByShopIds(ctx.db, req.customers);
  const missing = req.customers.findIndex((c) => !found.has(c));
  if (missing >= 0)
    throw new AppError('validation', `no customer with id '${req.customers[missing]}'`, {
      where: { field: `customers[${missing}]` },
    });
  const skipped: { customer: string; reason: string }[] = [];
  const wanted: number[] = [];
  for (const c of new Set(req.customers)) {
    const f = found.get(c)!;
    if (f.erased) skipped.push({ customer: c, reason: 'erased' });
    else wanted.push(f.id);
  }
  let orderId: number | null = null;
  if (req.order !== undefined) {
    const o = await repo.orderOf(ctx.db, req.order);
    if (!o || o.customer_id !== found.get(req.customers[0]!)!.id)
      throw new AppError(
        'validation',
        o ? `order '${req.order}' is not customer '${req.customers[0]}'s` : `no order with id '${req.order}'`,
        { where: { field: 'order' } },
      );
    orderId = o.order_id;
  }
  const result = await ctx.db.transaction((tx) =>
    inviteIn(ctx, tx, sender, {
      customerIds: wanted,
      occurrence: req.occurrence,
      source,
      followUp,
      orderId,
      now: ctx.clock.now(),
    }),
  );
  if (result.invited > 0) notifyDelivery(ctx);
  return { ...result, skipped };
}

// ---- the contact's side: the links ----------------------------------------------------------------

export type LinkPage =
  | {
      page: 'why';
      lang: PageLang;
      kind: 'nps' | 'csat';
      question: string;
      why: string;
      score: number;
      scoreUrls: { score: number; url: string }[];
      formAction: string;
      answer: string | null;
    }
  | { page: 'thanks' | 'answered' | 'expired' | 'invalid'; lang: PageLang };

/** Refusals of a link: nothing is stored; the page says why (403: not valid or already answered; 410). */
export class LinkRefused extends AppError {
  constructor(
    readonly page: 'answered' | 'expired' | 'invalid',
    readonly lang: PageLang,
  ) {
    super('forbidden', `survey link refused: ${page}`);
  }
}

async function invitationOf(ctx: ModuleContext, token: string, want: 'score' | 'why', lang: PageLang) {
  const secret = await linkSecretOf(ctx);
  const t = readToken(secret, token);
  if (!t || t.kind !== want) throw new LinkRefused('invalid', lang);
  const inv = await repo.invitationById(ctx.db, t.invitation);
  if (!inv) throw new LinkRefused('invalid', lang);
  return { t, inv, secret, lang: langOf(inv.locale) };
}

/**
 * A score link: the invitation's one answer takes the score (a later click while it is open updates
 * it), a low score makes the call task (once per invitation), and the page asks "why". A closed
 * (answered) or expired invitation, or a link that is not ours, stores nothing.
 */
export async function answerScore(
  ctx: ModuleContext,
  { token, lang }: { token: string; lang: PageLang },
): Promise<LinkPage> {
  const { t, inv, secret, lang: l } = await invitationOf(ctx, token, 'score', lang);
  if (t.kind !== 'score') throw new LinkRefused('invalid', lang);
  if (inv.status === 'closed') throw new LinkRefused('answered', l);
  const now = ctx.clock.now();
  if (inv.expires_at.getTime() <= now.getTime()) throw new LinkRefused('expired', l);
  const d = definitionOf(inv);
  if (!scoresOf(d.kind).includes(t.score)) throw new LinkRefused('invalid', l);
  await ctx.db.transaction(async (tx) => {
    await repo.saveScore(tx, {
      invitationId: inv.invitation_id,
      surveyId: inv.survey_id,
      customerId: inv.customer_id,
      score: t.score,
      locale: l,
      now,
    });
    if (d.lowScore && t.score <= d.lowScore.atMost)
      await callTask(tx, inv, d, { score: t.score, why: inv.why, reason: 'score', now });
  });
  const base = publicBase((await getPolicy(ctx)).publicUrl) ?? '';
  const w = wordingOf(d, l);
  return {
    page: 'why',
    lang: l,
    kind: d.kind,
    question: w.question,
    why: w.why,
    score: t.score,
    scoreUrls: scoresOf(d.kind).map((score) => ({
      score,
      url: `${base}/s/${scoreToken(secret, inv.invitation_id, score)}`,
    })),
    formAction: `${base}/s/${whyToken(secret, inv.invitation_id)}`,
    answer: inv.why,
  };
}

/**
 * The "why" form: stored with the answer, the invitation closed (its links stop working), and unhappy
 * words make the call task when the score did not. Posting the same text again (a double submission)
 * answers thanks and changes nothing; anything else on a closed invitation is refused.
 */
export async function answerWhy(
  ctx: ModuleContext,
  { token, why, lang }: { token: string; why: string; lang: PageLang },
): Promise<LinkPage> {
  const { inv, lang: l } = await invitationOf(ctx, token, 'why', lang);
  const text = why.replace(/\r\n?/g, '\n').trim().slice(0, 2000);
  if (inv.score === null) throw new LinkRefused('invalid', l);
  if (inv.status === 'closed') {
    if ((inv.why ?? '') === text) return { page: 'thanks', lang: l };
    throw new LinkRefused('answered', l);
  }
  const now = ctx.clock.now();
  if (inv.expires_at.getTime() <= now.getTime()) throw new LinkRefused('expired', l);
  const d = definitionOf(inv);
  const closed = await ctx.db.transaction(async (tx) => {
    if (!(await repo.closeInvitation(tx, inv.invitation_id))) return false;
    await repo.saveWhy(tx, inv.invitation_id, text, now);
    const low = d.lowScore && inv.score! <= d.lowScore.atMost;
    if (d.lowScore && !low && d.lowScore.negativeWords && text && isNegative(text, l))
      await callTask(tx, inv, d, { score: inv.score!, why: text, reason: 'words', now });
    else if (text) {
      // The reason goes onto the task the score made, so its agent reads it before calling.
      const taskId = await repo.answerTaskOf(tx, inv.invitation_id);
      if (taskId !== null)
        await addToTaskIn(tx, {
          taskId,
          customerId: inv.customer_id,
          text: `Reason given: ${text}`,
          by: `survey:${inv.survey_name}`,
          now,
        });
    }
    return true;
  });
  if (!closed) {
    // Another submission closed it in between: the same text is the double submission.
    const again = await repo.invitationById(ctx.db, inv.invitation_id);
    if ((again?.why ?? '') === text) return { page: 'thanks', lang: l };
    throw new LinkRefused('answered', l);
  }
  return { page: 'thanks', lang: l };
}

/** The call task of a low answer: once per invitation (its key), to the next assignee, due by the SLA. */
async function callTask(
  tx: Parameters<typeof createTaskIn>[0],
  inv: repo.InvitationDbRow,
  d: SurveyDefinition,
  a: { score: number; why: string | null; reason: 'score' | 'words'; now: Date },
) {
  if (!d.lowScore) return;
  // One task per invitation: a later click or the reason finds it (and takes no turn).
  if ((await repo.answerTaskOf(tx, inv.invitation_id)) !== null) return;
  const now = a.now;
  const turn = await repo.nextTurn(tx, inv.survey_id);
  const assignee = d.lowScore.assignees[turn % d.lowScore.assignees.length]!;
  const scale = d.kind === 'nps' ? '0–10' : '1–5';
  const r = await createTaskIn(tx, {
    customerId: inv.customer_id,
    title: `Call: ${d.kind.toUpperCase()} ${a.score} of ${scale} in survey ${inv.survey_name}`,
    body:
      a.reason === 'words'
        ? `Unhappy words in the answer: ${a.why ?? ''}`
        : `The customer scored ${a.score}${a.why ? `: ${a.why}` : ' (no reason given yet)'}. Call, listen, offer a solution; record the outcome.`,
    assignee,
    dueAt: new Date(now.getTime() + d.lowScore.slaHours * 3_600_000),
    source: `survey:${inv.survey_name}`,
    sourceKey: `survey:${inv.invitation_id}`,
    now,
    by: `survey:${inv.survey_name}`,
  });
  if (r.created) await repo.setAnswerTask(tx, inv.invitation_id, r.taskId);
}

// ---- results and the follow-up -------------------------------------------------------------------

/** How many groups each breakdown lists (the largest; cohorts: the latest). */
const GROUPS = 20;
const round2 = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);
const minor = (x: number | null) => (x === null ? null : Math.round(x));
const diffOut = (d: Difference | null, f: (x: number) => number) =>
  d && { estimate: f(d.estimate), low: f(d.low), high: f(d.high) };

/**
 * `GET /v1/surveys/{name}/results`, `retain surveys results`: the score with its interval, bands,
 * response rate, tasks, by month, "why" themes per band; the score by segment, acquisition channel,
 * product and first-order cohort; NPS next to CLV (do promoters spend more?); and the effect report
 * (repeat rate and revenue after low scores whose task was done against the others). Purchases are the
 * store currency's sale orders net of refunds (the reports' definitions) within `windowDays` of the answer.
 */
export async function surveyResults(
  ctx: ModuleContext,
  { name, query = {} }: { name: string; query?: Record<string, unknown> },
): Promise<SurveyResults> {
  const windowDays = parseInput(ResultsQuery, query, 'query').window;
  const row = await surveyRow(ctx, name);
  const d = definitionOf(row);
  const answers = await repo.answersOf(ctx.db, row.survey_id);
  const invited = await repo.invitationCount(ctx.db, row.survey_id);
  const scores = answers.map((a) => a.score);
  const n = scores.length;
  const band = (lo: number, hi: number) => scores.filter((x) => x >= lo && x <= hi).length;
  const headline =
    d.kind === 'nps'
      ? (() => {
          const r = n === 0 ? null : nps(scores);
          return {
            nps: r ? round2(r.nps) : null,
            interval95: r ? [round2(r.low), round2(r.high)] : null,
            promoters: band(9, 10),
            passives: band(7, 8),
            detractors: band(0, 6),
          };
        })()
      : (() => {
          const r = n === 0 ? null : csat(scores);
          return {
            csat: r ? round2(r.csat) : null,
            interval95: r ? [round2(r.low), round2(r.high)] : null,
            happy: band(4, 5),
            neutral: band(3, 3),
            unhappy: band(1, 2),
          };
        })();
  // "Why" themes per score band: stemmed words and two-word phrases, in each answer's language.
  const themes = surveyThemes(
    d.kind,
    answers.map((a) => ({ score: a.score, why: a.why, locale: a.locale })),
    { top: 10, examples: 2 },
  );
  // Months on the store's calendar.
  const store = await getStore(ctx);
  const monthOf = new Intl.DateTimeFormat('en-CA', {
    timeZone: store.timeZone,
    year: 'numeric',
    month: '2-digit',
  });
  const month = (at: Date) => monthOf.format(at).slice(0, 7);
  const byMonth = new Map<string, number[]>();
  for (const a of answers) {
    const m = month(a.answered_at);
    byMonth.set(m, [...(byMonth.get(m) ?? []), a.score]);
  }
  return {
    survey: row.name,
    kind: d.kind,
    invited,
    answered: n,
    withReason: answers.filter((a) => a.why).length,
    responseRate: invited === 0 ? null : n / invited,
    ...headline,
    tasks: answers.filter((a) => a.task_id !== null).length,
    themes,
    months: [...byMonth].map(([m, s]) => ({
      month: m,
      answered: s.length,
      score:
        d.kind === 'nps'
          ? Math.round(
              (10_000 * (s.filter((x) => x >= 9).length - s.filter((x) => x <= 6).length)) / s.length,
            ) / 100
          : Math.round((10_000 * s.filter((x) => x >= 4).length) / s.length) / 100,
    })),
    ...(await resultsInContext(ctx, row, d, { windowDays, month, currency: store.currency })),
  };
}

/** The breakdowns, NPS next to CLV and the effect report of {@link surveyResults}. */
async function resultsInContext(
  ctx: ModuleContext,
  row: repo.SurveyDbRow,
  d: SurveyDefinition,
  o: { windowDays: number; month: (at: Date) => string; currency: string | null },
) {
  const asOf = ctx.clock.now();
  const rows = await repo.resultAnswers(ctx.db, row.survey_id);
  const orders = o.currency
    ? await repo.answeringCustomersOrders(ctx.db, { surveyId: row.survey_id, asOf, currency: o.currency })
    : [];
  const ordersOf = new Map<number, typeof orders>();
  for (const x of orders) ordersOf.set(x.customer_id, [...(ordersOf.get(x.customer_id) ?? []), x]);
  // The order an answer is about: the invitation's, else the customer's latest before the answer.
  const orderOfAnswer = new Map<string, number>();
  for (const a of rows) {
    const own =
      a.order_id ??
      ordersOf
        .get(a.customer_id)
        ?.filter((x) => x.ordered_at <= a.answered_at)
        .at(-1)?.order_id;
    if (own !== undefined) orderOfAnswer.set(a.invitation_id, own);
  }
  const products = await repo.productsOfOrders(ctx.db, [...new Set(orderOfAnswer.values())]);
  const titles = new Map<string, string>();
  const segmentsOf = new Map<number, string[]>();
  for (const m of await repo.answeringCustomersSegments(ctx.db, row.survey_id))
    segmentsOf.set(m.customer_id, [...(segmentsOf.get(m.customer_id) ?? []), m.segment]);
  const NONE = '(unknown)';
  const groups = (
    keyed: { key: string; score: number }[],
    order: 'size' | 'latest' = 'size',
    label?: (key: string) => string,
  ) => {
    let all = scoresBy(d.kind, keyed);
    if (order === 'latest') all = all.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
    return {
      groups: all.slice(0, GROUPS).map((g) => ({
        key: g.key,
        ...(label ? { label: label(g.key) } : {}),
        answered: g.answered,
        score: round2(g.score),
        interval95: [round2(g.low), round2(g.high)],
        few: g.few,
      })),
      more: Math.max(0, all.length - GROUPS),
    };
  };
  const by = {
    segment: groups(
      rows.flatMap((a) => (segmentsOf.get(a.customer_id) ?? []).map((key) => ({ key, score: a.score }))),
    ),
    channel: groups(rows.map((a) => ({ key: a.channel ?? NONE, score: a.score }))),
    product: groups(
      rows.flatMap((a) => {
        const id = orderOfAnswer.get(a.invitation_id);
        return (id === undefined ? [] : (products.get(id) ?? [])).map((p) => {
          titles.set(p.sku, p.title);
          return { key: p.sku, score: a.score };
        });
      }),
      'size',
      (sku) => titles.get(sku) ?? sku,
    ),
    cohort: groups(
      rows.map((a) => {
        const first = ordersOf.get(a.customer_id)?.[0];
        return { key: first ? o.month(first.ordered_at) : '(no order)', score: a.score };
      }),
      'latest',
    ),
  };
  if (!o.currency)
    return {
      by,
      value: null,
      effect: null,
      notes: ['Set the store currency (retain store --currency) to see purchases next to the scores.'],
    };
  const digits = minorDigits(o.currency);
  const fmt = (m: number) => formatMoney(m, digits, o.currency);
  const outcomeOf = (a: repo.ResultAnswerRow) =>
    windowOutcome(
      a.answered_at.getTime(),
      (ordersOf.get(a.customer_id) ?? []).map((x) => ({
        atMs: x.ordered_at.getTime(),
        netMinor: x.net_minor,
      })),
      asOf.getTime(),
      o.windowDays,
    );
  // Each customer once, by their latest answer.
  const latest = new Map<number, repo.ResultAnswerRow>();
  for (const a of rows) latest.set(a.customer_id, a);
  const v = valueByBand(
    d.kind,
    [...latest.values()].map((a) => ({ score: a.score, clvMinor: a.clv_minor, outcome: outcomeOf(a) })),
    { windowDays: o.windowDays, formatMoney: fmt },
  );
  const clvRun = await repo.latestClvRun(ctx.db);
  const lowAtMost = d.lowScore?.atMost ?? (d.kind === 'nps' ? 6 : 2);
  const e = lowScoreEffect(
    rows
      .filter((a) => a.score <= lowAtMost)
      .map((a) => ({ resolved: a.task_status === 'done', outcome: outcomeOf(a) })),
    { windowDays: o.windowDays, formatMoney: fmt },
  );
  const group = (g: EffectGroup) => ({
    lowScores: g.lowScores,
    matured: g.matured,
    repeatRate: round4(g.repeatRate),
    revenueAfterMinor: minor(g.revenueAfterMinor),
    boughtBefore: round4(g.boughtBefore),
    revenueBeforeMinor: minor(g.revenueBeforeMinor),
  });
  return {
    by,
    value: {
      currency: o.currency,
      windowDays: v.windowDays,
      clv: clvRun && {
        asOf: clvRun.as_of.toISOString(),
        horizon: Number(clvRun.horizon),
        timeUnit: clvRun.time_unit,
        currency: clvRun.currency,
      },
      bands: v.bands.map((b) => ({
        band: b.band,
        customers: b.customers,
        withClv: b.withClv,
        meanClvMinor: minor(b.meanClvMinor),
        meanNetToDateMinor: minor(b.meanNetToDateMinor),
        matured: b.matured,
        repeatRate: round4(b.repeatRate),
        revenueAfterMinor: minor(b.revenueAfterMinor),
      })),
      topVsBottom: {
        clvMinor: diffOut(v.topVsBottom.clvMinor, Math.round),
        repeatRate: diffOut(v.topVsBottom.repeatRate, (x) => round4(x)!),
        revenueAfterMinor: diffOut(v.topVsBottom.revenueAfterMinor, Math.round),
      },
      verdict: v.verdict,
    },
    effect: {
      currency: o.currency,
      windowDays: e.windowDays,
      lowScoreAtMost: lowAtMost,
      resolved: group(e.resolved),
      unresolved: group(e.unresolved),
      difference: {
        repeatRate: diffOut(e.difference.repeatRate, (x) => round4(x)!),
        revenueAfterMinor: diffOut(e.difference.revenueAfterMinor, Math.round),
      },
      verdict: e.verdict,
    },
    notes: [
      `Purchases: sale orders in ${o.currency} net of their refunds; "after" is the ${o.windowDays} days after the answer, counted only for answers at least that old; "before" the same span before it.`,
      'By segment: the segments the customer is in now (their latest snapshot). By product: the products of the order the survey asked about, else of the customer’s latest order before answering. By cohort: the month of the customer’s first order.',
      `Effect: low scores (${d.kind.toUpperCase()} ≤ ${lowAtMost}) whose call task is done against the others (task open, cancelled, or none). Calls are not assigned at random: an association, not proof.`,
    ],
  };
}

const AnswersCursor = (v: unknown): v is { at: string; id: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { at?: unknown }).at === 'string' &&
  !Number.isNaN(Date.parse((v as { at: string }).at)) &&
  typeof (v as { id?: unknown }).id === 'string';

/**
 * `GET /v1/surveys/{name}/answers`, `retain surveys answers`: newest first, keyset pages (`cursor` =
 * the previous page's `nextCursor`), optionally one score band.
 */
export async function surveyAnswers(
  ctx: ModuleContext,
  { name, query = {} }: { name: string; query?: Record<string, unknown> },
): Promise<AnswersPageOut> {
  const { limit, cursor, band } = parseInput(AnswersQuery, query, 'query');
  const row = await surveyRow(ctx, name);
  const d = definitionOf(row);
  let range: { min: number; max: number } | undefined;
  if (band !== undefined && band !== '') {
    const bands = BANDS[d.kind] as readonly string[];
    if (!bands.includes(band))
      throw new AppError(
        'validation',
        `band must be one of ${bands.join(', ')} for a ${d.kind.toUpperCase()} survey`,
        {
          where: { field: 'band' },
        },
      );
    const { min, max } = SCORE_RANGE[d.kind];
    const scores = Array.from({ length: max - min + 1 }, (_, i) => min + i).filter(
      (x) => bandOf(d.kind, x) === band,
    );
    range = { min: scores[0]!, max: scores.at(-1)! };
  }
  const before = cursor === undefined || cursor === '' ? undefined : decodeCursor(cursor, AnswersCursor);
  if (cursor && !before)
    throw new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
      where: { field: 'cursor' },
    });
  const rows = await repo.answersPage(ctx.db, row.survey_id, {
    limit: limit + 1,
    before: before && { at: new Date(before.at), id: before.id },
    ...range,
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map((a) => ({
      customer: a.external_id,
      score: a.score,
      band: bandOf(d.kind, a.score),
      why: a.why,
      locale: a.locale,
      answeredAt: a.answered_at.toISOString(),
      taskId: a.task_id === null ? null : String(a.task_id),
    })),
    nextCursor:
      rows.length > limit && last
        ? encodeCursor({ at: last.answered_at.toISOString(), id: last.invitation_id })
        : null,
  };
}

/**
 * The closed loop: each customer whose survey task is done is asked again (occurrence
 * `follow-up:<task>`, once per task, the throttle not applied). Run hourly (`surveys.follow-up`).
 */
export async function sendFollowUps(ctx: ModuleContext): Promise<{ invited: number }> {
  let invited = 0;
  for (const f of await repo.followUpsDue(ctx.db)) {
    const r = await inviteToSurvey(ctx, {
      name: f.survey_name,
      body: { customers: [f.external_id], occurrence: `follow-up:${f.task_id}` },
      followUp: true,
    });
    invited += r.invited;
  }
  return { invited };
}
