import type { Context } from 'hono';
import { addIntervals, dateOfDay, dayNumber, localDate } from '../../analytics/subscriptions/schedule.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { AppError } from '../../shared/errors.js';
import { customersById } from '../customers/repository.js';
import { linkSecretOf } from '../messaging/links.js';
import { langOf, langOfHeader, PAGE_HEADERS, type PageLang } from '../messaging/pages.js';
import { subscriptionOfManageToken } from './links.js';
import {
  cancelPage,
  doneText,
  managePage,
  refusalText,
  refusedPage,
  type ManageView,
  type PageAction,
  type Refusal,
} from './pageWording.js';
import * as repo from './repository.js';
import { PlanDefinition } from './schema.js';
import { actOnSubscription, discounted, getSubscription } from './service.js';

/**
 * The customer's own page of a subscription (issue 28; docs/subscriptions.md#the-customers-page), reached
 * by the signed link `/m/<token>` (`manageUrl`, links.ts): GET shows the terms and a form per action the
 * status allows; `?view=cancel` is the cancel page, which offers a skip or a pause before the reasons;
 * POST (a form) does one action through `actOnSubscription(…, by: 'customer')` and shows the page again
 * with a confirmation, or with the refusal beside the form (400/409, nothing written).
 *
 * The token is the credential (no session, no cookie), so a cross-site form cannot post without knowing
 * it — the preference page's reasoning. Every form carries the subscription's version as the page saw it:
 * a form sent twice (a double tap, a reload after a post) finds the version moved and is refused with
 * a 409 page, writing nothing, instead of skipping two deliveries. The check and the action run one at
 * a time per subscription in this process.
 */

type Status = 200 | 400 | 403 | 404 | 409 | 410;
const html = (c: Context, body: string, status: Status = 200) => {
  for (const [k, v] of Object.entries(PAGE_HEADERS)) c.header(k, v);
  return c.html(body, status);
};

const ACTIONS: readonly PageAction[] = [
  'skip',
  'reschedule',
  'pause',
  'resume',
  'quantity',
  'swap',
  'cancel',
  'reactivate',
];

/** The subscription behind a token and the customer's language, or the page refusing it. */
async function open(
  c: Context,
  deps: ServerDeps,
): Promise<{ id: number; row: repo.SubscriptionDbRow; lang: PageLang } | Response> {
  const asked = langOfHeader(c.req.header('accept-language'));
  const id = subscriptionOfManageToken(await linkSecretOf(deps), c.req.param('token') ?? '');
  if (id === null) return html(c, refusedPage(asked, 'invalid'), 403);
  const row = await repo.subscriptionById(deps.db, id);
  if (!row) return html(c, refusedPage(asked, 'missing'), 404);
  const [customer] = await customersById(deps.db, [row.customer_id]);
  if (!customer || customer.erased_at !== null) return html(c, refusedPage(asked, 'gone'), 410);
  return { id, row, lang: customer.locale ? langOf(customer.locale) : asked };
}

/** Everything the page shows; the version is read before the rest, so a page never shows newer than it posts. */
async function viewOf(
  deps: ServerDeps,
  id: number,
  lang: PageLang,
  token: string,
): Promise<ManageView | null> {
  const row = await repo.subscriptionById(deps.db, id);
  if (!row) return null;
  const sub = await getSubscription(deps, { id });
  const plan = await repo.planByName(deps.db, sub.plan);
  const d = plan ? PlanDefinition.parse(JSON.parse(plan.definition)) : null;
  // Swap offers the other products the plan lists, each with a price, at its subscription price (the
  // service's rule: the one-off price less the plan's discount). A plan that lists none sells "any
  // product with a price": the whole catalogue is no choice for a phone, so no swap is offered there.
  const swapTo: ManageView['swapTo'] = [];
  for (const sku of d?.products ?? []) {
    if (sku === sub.sku) continue;
    const p = await repo.productOf(deps.db, sku);
    if (!p || p.price_minor === null || p.price_minor <= 0) continue;
    swapTo.push({
      sku,
      title: p.title ?? sku,
      unitPriceMinor: discounted(p.price_minor, d!),
    });
  }
  const today = localDate(deps.clock.now(), sub.timeZone);
  return {
    lang,
    token,
    version: row.version,
    sub,
    planTitle: d?.title ?? sub.plan,
    productTitle: sub.title ?? sub.sku,
    today,
    tomorrow: dateOfDay(dayNumber(today) + 1),
    swapTo,
    pauses: [1, 2, 3].map((months) => ({
      months,
      until: addIntervals(today, { every: months, unit: 'month' }, 1),
    })),
  };
}

/** The form's fields (single values); null when the body is not a form. */
async function formOf(c: Context): Promise<Record<string, string> | null> {
  const type = c.req.header('content-type') ?? '';
  if (!type.includes('application/x-www-form-urlencoded') && !type.includes('multipart/form-data'))
    return null;
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The action's body for `actOnSubscription` from the form's fields (the service validates it). */
function actionBody(action: PageAction, f: Record<string, string>): Record<string, unknown> {
  const date = f.date?.trim();
  switch (action) {
    case 'skip':
      return { action };
    case 'reschedule':
      return { action, date: date ?? '' };
    case 'pause':
      return { action, until: f.until?.trim() ?? '' };
    case 'resume':
    case 'reactivate':
      return date ? { action, date } : { action };
    case 'quantity': {
      const q = f.quantity?.trim() ?? '';
      return { action, quantity: /^\d{1,3}$/.test(q) ? Number(q) : q };
    }
    case 'swap':
      return { action, sku: f.sku ?? '' };
    case 'cancel': {
      const note = f.note?.trim();
      return { action, reason: f.reason ?? '', ...(note ? { note } : {}) };
    }
  }
}

export function registerSubscriptionPages(app: RetainApp, deps: ServerDeps): void {
  app.get('/m/:token', async (c) => {
    const o = await open(c, deps);
    if (o instanceof Response) return o;
    const v = await viewOf(deps, o.id, o.lang, c.req.param('token'));
    if (!v) return html(c, refusedPage(o.lang, 'missing'), 404);
    const cancel = c.req.query('view') === 'cancel' && v.sub.status !== 'cancelled';
    return html(c, cancel ? cancelPage(v) : managePage(v));
  });

  app.post('/m/:token', async (c) => {
    const o = await open(c, deps);
    if (o instanceof Response) return o;
    const token = c.req.param('token');
    const f = await formOf(c);
    const action = ACTIONS.find((a) => a === f?.action) ?? null;
    const refused = async (
      status: 400 | 409,
      r: Refusal,
      field?: string,
      values?: Record<string, string>,
    ): Promise<Response> => {
      const v = await viewOf(deps, o.id, o.lang, token);
      if (!v) return html(c, refusedPage(o.lang, 'missing'), 404);
      const text = refusalText(o.lang, r, { today: v.today, status: v.sub.status });
      const view = { ...v, error: { action, text, field }, values };
      return html(
        c,
        action === 'cancel' && v.sub.status !== 'cancelled' ? cancelPage(view) : managePage(view),
        status,
      );
    };
    if (!f || action === null) return refused(400, { kind: 'form' });

    // The version the page showed goes with the action: a form sent twice finds it moved (409, nothing
    // written) — checked by the service against the row its compare-and-set then uses, so two servers
    // cannot both take one form.
    const outcome = await (async () => {
      const v = Number(f.v);
      if (!Number.isSafeInteger(v)) return { kind: 'stale' as const };
      try {
        await actOnSubscription(deps, {
          id: o.id,
          body: actionBody(action, f),
          by: 'customer',
          expectedVersion: v,
        });
        return { kind: 'done' as const };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'conflict' && err.where?.field === 'version') return { kind: 'stale' as const };
        return { kind: 'refused' as const, err, version: v };
      }
    })();
    if (outcome.kind === 'stale') return refused(409, { kind: 'stale' });
    if (outcome.kind === 'refused') {
      const { err } = outcome;
      if (err.code === 'not_found') return html(c, refusedPage(o.lang, 'missing'), 404);
      if (err.code === 'validation') {
        const field = err.where?.field;
        return refused(400, field ? { kind: 'field', field } : { kind: 'other' }, field, f);
      }
      if (err.code === 'conflict') {
        const after = await repo.subscriptionById(deps.db, o.id);
        if (after && after.version !== outcome.version) return refused(409, { kind: 'stale' });
        if (action === 'reactivate') {
          const plan = await repo.planByName(deps.db, o.row.plan);
          if (plan && plan.status !== 'active') return refused(409, { kind: 'archived' });
        }
        return refused(409, { kind: 'status' });
      }
      throw err;
    }
    const v = await viewOf(deps, o.id, o.lang, token);
    if (!v) return html(c, refusedPage(o.lang, 'missing'), 404);
    return html(c, managePage({ ...v, done: doneText(o.lang, action, v.sub, v.productTitle) }));
  });
}
