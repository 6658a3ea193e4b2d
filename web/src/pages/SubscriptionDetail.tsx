import {
  useInfiniteQuery,
  useMutation,
  useQuery,
  useQueryClient,
  type UseMutationResult,
} from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { campaignFormat, errorsByPath, type CampaignFormat } from './CampaignCommon';
import { byWhom } from './FlowsCommon';
import {
  CANCEL_REASONS,
  localDay,
  ProductName,
  subscriptionPath,
  SubscriptionStatusBadge,
  useIntervalText,
  usePlans,
  useSubscriptionRights,
  type Page,
  type Payment,
  type SubscriptionDetail,
} from './SubscriptionsCommon';

/** `POST /v1/subscriptions/{id}/actions` bodies (src/modules/subscriptions/schema.ts `SubscriptionAction`). */
type Action =
  | { action: 'skip' }
  | { action: 'reschedule'; date: string }
  | { action: 'pause'; until: string }
  | { action: 'resume'; date?: string }
  | { action: 'quantity'; quantity: number | string }
  | { action: 'swap'; sku: string }
  | { action: 'cancel'; reason: string; note?: string }
  | { action: 'reactivate'; date?: string };
type ActionName = Action['action'];

/** The fields of each action's form that the API may name in a refusal (its message shown beside). */
const FIELDS: Record<ActionName, string[]> = {
  skip: [],
  reschedule: ['date'],
  pause: ['until'],
  resume: ['date'],
  quantity: ['quantity'],
  swap: ['sku'],
  cancel: ['reason', 'note'],
  reactivate: ['date'],
};

/** The actions that fit a status (the API refuses the others with a 409). */
const FITTING: Record<SubscriptionDetail['status'], ActionName[]> = {
  active: ['skip', 'reschedule', 'pause', 'quantity', 'swap', 'cancel'],
  past_due: ['skip', 'reschedule', 'pause', 'quantity', 'swap', 'cancel'],
  paused: ['resume', 'quantity', 'swap', 'cancel'],
  cancelled: ['reactivate'],
};

type Act = UseMutationResult<SubscriptionDetail, Error, Action>;

/**
 * One subscription (`/subscriptions/:id`, `GET /v1/subscriptions/{id}`): the terms (product, quantity,
 * the unit price against the one-off price, interval, local delivery time and zone, MRR, address), the
 * next deliveries, the orders made, the payment attempts (`GET /v1/subscription-payments?subscription=`)
 * and the history. For the roles with `subscriptions:write` (admin, marketer, agent) the actions that fit
 * its status — skip, reschedule, pause until, resume, quantity, swap, cancel with a reason, reactivate —
 * each a `POST …/actions` whose refusal shows beside its field (a 400 naming it) or on top (a 409).
 */
export function SubscriptionPage() {
  const id = useParams().id ?? '';
  return <SubscriptionView key={id} id={id} />;
}

function SubscriptionView({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const rights = useSubscriptionRights();
  const queries = useQueryClient();
  const sub = useQuery({
    queryKey: ['subscription', id],
    queryFn: () => api<SubscriptionDetail>(subscriptionPath(id)),
  });
  const act: Act = useMutation({
    mutationFn: (body: Action) =>
      api<SubscriptionDetail>(`${subscriptionPath(id)}/actions`, { method: 'POST', body }),
    onSuccess: async (saved) => {
      queries.setQueryData<SubscriptionDetail>(['subscription', id], saved);
      await Promise.all(
        [['subscriptions'], ['subscription-payments', id], ['subscription-plans']].map((queryKey) =>
          queries.invalidateQueries({ queryKey }),
        ),
      );
    },
    // A 409 (changed meanwhile, an action that no longer fits): the page shows where it is now.
    onError: (err) => {
      if (err instanceof ApiError && err.status === 409)
        void queries.invalidateQueries({ queryKey: ['subscription', id] });
    },
  });
  const list = (useLocation().state as { list?: string } | null)?.list;
  const x = sub.data;
  const f = x ? campaignFormat(i18n.language, x.currency, x.timeZone) : null;
  return (
    <section aria-labelledby="subscription-title" className="campaign-page">
      <h1 id="subscription-title">{t('subscriptions.detail.title', { id })}</h1>
      <p>
        <Link to={list ? `/subscriptions?${list}` : '/subscriptions'}>{t('subscriptions.back')}</Link>
      </p>
      {sub.error instanceof ApiError && (sub.error.status === 404 || sub.error.status === 400) ? (
        <p role="alert" data-testid="subscription-missing">
          {sub.error.message}
        </p>
      ) : !x || !f ? (
        <Status query={sub} />
      ) : (
        <>
          <Terms x={x} f={f} />
          {rights.write ? <Actions x={x} act={act} f={f} /> : null}
          <Upcoming x={x} f={f} />
          <Orders x={x} f={f} />
          <Payments id={x.id} f={f} />
          <History x={x} f={f} />
        </>
      )}
    </section>
  );
}

function Terms({ x, f }: { x: SubscriptionDetail; f: CampaignFormat }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const interval = useIntervalText();
  const off =
    x.oneOffPriceMinor !== null && x.oneOffPriceMinor > 0 ? 1 - x.unitPriceMinor / x.oneOffPriceMinor : null;
  const price =
    x.oneOffPriceMinor === null
      ? t('subscriptions.detail.priceNoOneOff', { unit: f.money(x.unitPriceMinor) })
      : off !== null && off > 0
        ? t('subscriptions.detail.priceLine', {
            unit: f.money(x.unitPriceMinor),
            oneOff: f.money(x.oneOffPriceMinor),
            off: f.share(off),
          })
        : t('subscriptions.detail.priceSame', {
            unit: f.money(x.unitPriceMinor),
            oneOff: f.money(x.oneOffPriceMinor),
          });
  const next = x.nextDelivery
    ? `${x.nextDeliveryLocal ? localDay(lang, x.nextDeliveryLocal) : ''}, ${x.localTime}`
    : null;
  const facts: [string, string, ReactNode][] = [
    [
      'customer',
      t('subscriptions.detail.customer'),
      <Link to={`/customers/${encodeURIComponent(x.customer)}`}>{x.customer}</Link>,
    ],
    ['status', t('subscriptions.detail.status'), <SubscriptionStatusBadge status={x.status} />],
    ['plan', t('subscriptions.detail.plan'), <Link to="/subscriptions/plans">{x.plan}</Link>],
    ['product', t('subscriptions.detail.product'), <ProductName sku={x.sku} title={x.title} />],
    ['quantity', t('subscriptions.detail.quantity'), f.int(x.quantity)],
    ['price', t('subscriptions.detail.price'), price],
    ['delivery-total', t('subscriptions.detail.perDelivery'), f.money(x.unitPriceMinor * x.quantity)],
    ['interval', t('subscriptions.detail.interval'), interval(x.interval)],
    [
      'time',
      t('subscriptions.detail.time'),
      t('subscriptions.detail.timeLine', { time: x.localTime, zone: x.timeZone }),
    ],
    [
      'next',
      x.status === 'paused' ? t('subscriptions.detail.resumes') : t('subscriptions.detail.next'),
      next ?? <span className="muted">{t('subscriptions.detail.noNext')}</span>,
    ],
    ['mrr', t('subscriptions.detail.mrr'), f.money(x.mrrMinor)],
    [
      'address',
      t('subscriptions.detail.address'),
      x.address && Object.keys(x.address).length ? (
        Object.values(x.address).filter(Boolean).join(', ')
      ) : (
        <span className="muted">{t('subscriptions.detail.noAddress')}</span>
      ),
    ],
    ['started', t('subscriptions.detail.started'), f.when(x.startedAt)],
  ];
  if (x.status === 'cancelled')
    facts.push(
      ['cancelled', t('subscriptions.detail.cancelled'), x.cancelledAt ? f.when(x.cancelledAt) : '—'],
      [
        'reason',
        t('subscriptions.detail.reason'),
        <>
          {x.cancelReason
            ? t(`subscriptions.reason.${x.cancelReason}`, { defaultValue: x.cancelReason })
            : '—'}
          {x.cancelNote ? <span style={{ whiteSpace: 'pre-wrap' }}>{` — ${x.cancelNote}`}</span> : null}
        </>,
      ],
    );
  return (
    <section aria-labelledby="subscription-terms-title">
      <h2 id="subscription-terms-title">{t('subscriptions.detail.terms')}</h2>
      <dl className="facts" data-testid="subscription-terms">
        {facts.map(([k, label, value]) => (
          <div key={k} data-fact={k}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <p className="muted">{t('subscriptions.detail.zoneNote', { zone: x.timeZone })}</p>
    </section>
  );
}

/** The id of an action's field (`pause`, `until` → `sub-pause-until`). */
const idOf = (action: ActionName, field: string) => `sub-${action}-${field}`;

function Actions({ x, act, f }: { x: SubscriptionDetail; act: Act; f: CampaignFormat }) {
  const { t, i18n } = useTranslation();
  const sent = act.variables?.action;
  // A 400 naming a field of the form sent: beside it; the rest (a 409, another field) on top.
  const conflict = act.error instanceof ApiError && act.error.status === 409;
  const placed = new Map<string, string>();
  const rest: string[] = [];
  if (act.error && sent && !conflict)
    for (const [path, message] of errorsByPath(act.error))
      if (FIELDS[sent].includes(path)) placed.set(path, message);
      else rest.push(path ? `${path}: ${message}` : message);
  const top = act.error ? (conflict || placed.size === 0 ? act.error.message : rest.join(' ') || null) : null;
  const errorOf = (action: ActionName, field: string) => (sent === action ? placed.get(field) : undefined);
  const done = act.data && !act.error ? act.variables : undefined;
  const fitting = FITTING[x.status];
  const form = (action: ActionName) => fitting.includes(action);
  const shared = { act, errorOf };
  return (
    <section aria-labelledby="subscription-actions-title">
      <h2 id="subscription-actions-title">{t('subscriptions.actions.title')}</h2>
      <div aria-live="polite">
        {done && act.data ? (
          <p role="status" data-testid="action-result">
            {t(`subscriptions.actions.done.${done.action}`, {
              date: act.data.nextDeliveryLocal ? localDay(i18n.language, act.data.nextDeliveryLocal) : '—',
              until: act.data.pausedUntil ? localDay(i18n.language, act.data.pausedUntil) : '—',
              quantity: f.int(act.data.quantity),
              sku: act.data.sku,
            })}
          </p>
        ) : null}
      </div>
      {top ? (
        <p role="alert" className="field-error" data-testid="action-error">
          {top}
        </p>
      ) : null}
      {/* Keyed by the last change: each form starts again from the subscription as it is now. */}
      <div className="sub-actions" key={x.updatedAt}>
        {form('skip') ? (
          <ActionForm action="skip" act={act} submit={() => ({ action: 'skip' })}>
            <p className="muted">
              {t('subscriptions.actions.skipHelp', {
                date: x.nextDeliveryLocal ? localDay(i18n.language, x.nextDeliveryLocal) : '—',
              })}
            </p>
          </ActionForm>
        ) : null}
        {form('reschedule') ? <DateForm action="reschedule" field="date" required {...shared} /> : null}
        {form('pause') ? <DateForm action="pause" field="until" required {...shared} /> : null}
        {form('resume') ? <DateForm action="resume" field="date" {...shared} /> : null}
        {form('quantity') ? <QuantityForm x={x} {...shared} /> : null}
        {form('swap') ? <SwapForm x={x} {...shared} /> : null}
        {form('cancel') ? <CancelForm x={x} {...shared} /> : null}
        {form('reactivate') ? <DateForm action="reactivate" field="date" {...shared} /> : null}
      </div>
    </section>
  );
}

type ErrorOf = (action: ActionName, field: string) => string | undefined;

/** One action's form: its heading, fields, and the button posting it. */
function ActionForm({
  action,
  act,
  submit,
  confirm,
  children,
}: {
  action: ActionName;
  act: Act;
  submit: () => Action;
  confirm?: () => boolean;
  children?: ReactNode;
}) {
  const { t } = useTranslation();
  const title = `subscription-${action}-title`;
  return (
    <form
      aria-labelledby={title}
      data-action={action}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (confirm && !confirm()) return;
        act.mutate(submit());
      }}
    >
      <h3 id={title}>{t(`subscriptions.actions.${action}.title`)}</h3>
      {children}
      <p className="save">
        <button
          type="submit"
          className={action === 'cancel' ? 'secondary danger' : undefined}
          disabled={act.isPending}
        >
          {t(`subscriptions.actions.${action}.submit`)}
        </button>
      </p>
    </form>
  );
}

/** A labelled control of an action's form, the API's message for its field beside it. */
function Field({
  action,
  field,
  label,
  help,
  error,
  children,
}: {
  action: ActionName;
  field: string;
  label: string;
  help?: string;
  error: string | undefined;
  children: (aria: { id: string; 'aria-describedby'?: string; 'aria-invalid': boolean }) => ReactNode;
}) {
  const id = idOf(action, field);
  const described = [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="cfield">
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(described ? { 'aria-describedby': described } : {}), 'aria-invalid': !!error })}
      {help ? (
        <small id={`${id}-help`} className="muted">
          {help}
        </small>
      ) : null}
      {error ? (
        <span id={`${id}-error`} className="field-error" data-error-for={field} role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

/** Reschedule (`date`), pause until (`until`), resume and reactivate (`date`, optional: today). */
function DateForm({
  action,
  field,
  required,
  act,
  errorOf,
}: {
  action: 'reschedule' | 'pause' | 'resume' | 'reactivate';
  field: 'date' | 'until';
  required?: boolean;
  act: Act;
  errorOf: ErrorOf;
}) {
  const { t } = useTranslation();
  const [date, setDate] = useState('');
  return (
    <ActionForm
      action={action}
      act={act}
      submit={() => ({ action, ...(required || date ? { [field]: date } : {}) }) as Action}
    >
      <Field
        action={action}
        field={field}
        label={t(`subscriptions.actions.${action}.label`)}
        help={t(`subscriptions.actions.${action}.help`)}
        error={errorOf(action, field)}
      >
        {(aria) => (
          <input
            type="date"
            {...aria}
            required={required}
            value={date}
            onChange={(e) => setDate(e.target.value)}
          />
        )}
      </Field>
    </ActionForm>
  );
}

function QuantityForm({ x, act, errorOf }: { x: SubscriptionDetail; act: Act; errorOf: ErrorOf }) {
  const { t } = useTranslation();
  const [quantity, setQuantity] = useState(String(x.quantity));
  return (
    <ActionForm
      action="quantity"
      act={act}
      submit={() => ({
        action: 'quantity',
        quantity: /^\d+$/.test(quantity.trim()) ? Number(quantity.trim()) : quantity,
      })}
    >
      <Field
        action="quantity"
        field="quantity"
        label={t('subscriptions.actions.quantity.label')}
        help={t('subscriptions.actions.quantity.help')}
        error={errorOf('quantity', 'quantity')}
      >
        {(aria) => (
          <input
            type="number"
            className="short"
            inputMode="numeric"
            min={1}
            max={100}
            {...aria}
            value={quantity}
            onChange={(e) => setQuantity(e.target.value)}
          />
        )}
      </Field>
    </ActionForm>
  );
}

/** Swap: the products the plan sells (its definition's `products`), or any sku when it lists none. */
function SwapForm({ x, act, errorOf }: { x: SubscriptionDetail; act: Act; errorOf: ErrorOf }) {
  const { t } = useTranslation();
  const plans = usePlans();
  const products = plans.data?.data.find((p) => p.name === x.plan)?.definition.products ?? [];
  const others = products.filter((s) => s !== x.sku);
  const [sku, setSku] = useState('');
  const chosen = products.length ? sku || others[0] || '' : sku;
  return (
    <ActionForm action="swap" act={act} submit={() => ({ action: 'swap', sku: chosen })}>
      <Field
        action="swap"
        field="sku"
        label={t('subscriptions.actions.swap.label')}
        help={
          products.length
            ? t('subscriptions.actions.swap.helpList', { sku: x.sku })
            : t('subscriptions.actions.swap.helpAny', { sku: x.sku })
        }
        error={errorOf('swap', 'sku')}
      >
        {(aria) =>
          products.length ? (
            <select {...aria} value={chosen} onChange={(e) => setSku(e.target.value)}>
              {products.map((s) => (
                <option key={s} value={s}>
                  {s === x.sku ? t('subscriptions.actions.swap.current', { sku: s }) : s}
                </option>
              ))}
            </select>
          ) : (
            <input {...aria} autoComplete="off" value={sku} onChange={(e) => setSku(e.target.value)} />
          )
        }
      </Field>
    </ActionForm>
  );
}

function CancelForm({ x, act, errorOf }: { x: SubscriptionDetail; act: Act; errorOf: ErrorOf }) {
  const { t } = useTranslation();
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  return (
    <ActionForm
      action="cancel"
      act={act}
      confirm={() => window.confirm(t('subscriptions.actions.cancel.confirm', { id: x.id }))}
      submit={() => ({ action: 'cancel', reason, ...(note.trim() ? { note } : {}) })}
    >
      <Field
        action="cancel"
        field="reason"
        label={t('subscriptions.actions.cancel.reason')}
        error={errorOf('cancel', 'reason')}
      >
        {(aria) => (
          <select {...aria} value={reason} onChange={(e) => setReason(e.target.value)}>
            <option value="">{t('subscriptions.actions.cancel.choose')}</option>
            {CANCEL_REASONS.map((r) => (
              <option key={r} value={r}>
                {t(`subscriptions.reason.${r}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        action="cancel"
        field="note"
        label={t('subscriptions.actions.cancel.note')}
        error={errorOf('cancel', 'note')}
      >
        {(aria) => <textarea {...aria} rows={2} value={note} onChange={(e) => setNote(e.target.value)} />}
      </Field>
    </ActionForm>
  );
}

function Upcoming({ x, f }: { x: SubscriptionDetail; f: CampaignFormat }) {
  const { t, i18n } = useTranslation();
  return (
    <section aria-labelledby="subscription-upcoming-title">
      <h2 id="subscription-upcoming-title">{t('subscriptions.upcoming.title')}</h2>
      {x.upcoming.length === 0 ? (
        <p data-testid="no-upcoming">
          {x.status === 'paused' && x.nextDeliveryLocal
            ? t('subscriptions.upcoming.paused', { date: localDay(i18n.language, x.nextDeliveryLocal) })
            : t('subscriptions.upcoming.none')}
        </p>
      ) : (
        <div
          className="table-wrap"
          role="region"
          aria-labelledby="subscription-upcoming-caption"
          tabIndex={0}
        >
          <table className="data" data-testid="upcoming">
            <caption id="subscription-upcoming-caption" className="sr-only">
              {t('subscriptions.upcoming.caption', { zone: x.timeZone })}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('subscriptions.upcoming.cycle')}</th>
                <th scope="col">{t('subscriptions.upcoming.date')}</th>
                <th scope="col">{t('subscriptions.upcoming.at', { zone: x.timeZone })}</th>
              </tr>
            </thead>
            <tbody>
              {x.upcoming.map((u) => (
                <tr key={u.cycle} data-cycle={u.cycle}>
                  <th scope="row">{f.int(u.cycle)}</th>
                  <td data-part="date">{localDay(i18n.language, u.localDate)}</td>
                  <td>{f.when(u.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Orders({ x, f }: { x: SubscriptionDetail; f: CampaignFormat }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="subscription-orders-title">
      <h2 id="subscription-orders-title">{t('subscriptions.orders.title')}</h2>
      {x.orders.length === 0 ? (
        <p data-testid="no-orders">{t('subscriptions.orders.none')}</p>
      ) : (
        <div className="table-wrap" role="region" aria-labelledby="subscription-orders-caption" tabIndex={0}>
          <table className="data" data-testid="orders">
            <caption id="subscription-orders-caption" className="sr-only">
              {t('subscriptions.orders.title')}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('subscriptions.orders.order')}</th>
                <th scope="col">{t('subscriptions.orders.cycle')}</th>
                <th scope="col">{t('subscriptions.orders.due')}</th>
                <th scope="col">{t('subscriptions.orders.amount')}</th>
              </tr>
            </thead>
            <tbody>
              {x.orders.map((o) => (
                <tr key={o.cycle} data-order={o.order}>
                  {/* The dashboard has no orders page: the order's id as text. */}
                  <th scope="row">
                    <code>{o.order}</code>
                  </th>
                  <td className="num">{f.int(o.cycle)}</td>
                  <td>{f.when(o.dueAt)}</td>
                  <td className="num">{f.money(o.amountMinor)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function Payments({ id, f }: { id: string; f: CampaignFormat }) {
  const { t } = useTranslation();
  const payments = useInfiniteQuery({
    queryKey: ['subscription-payments', id],
    initialPageParam: '',
    queryFn: ({ pageParam }) =>
      api<Page<Payment>>(
        `/v1/subscription-payments?limit=50&subscription=${encodeURIComponent(id)}${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  // Keys sort as text (`…-10-1` before `…-2-1`): shown by cycle, then attempt.
  const rows = (payments.data?.pages.flatMap((p) => p.data) ?? []).sort(
    (a, b) => a.cycle - b.cycle || a.attempt - b.attempt,
  );
  return (
    <section aria-labelledby="subscription-payments-title">
      <h2 id="subscription-payments-title">{t('subscriptions.payments.title')}</h2>
      {!payments.data ? (
        <Status query={payments} />
      ) : rows.length === 0 ? (
        <p data-testid="no-payments">{t('subscriptions.payments.none')}</p>
      ) : (
        <>
          <div
            className="table-wrap"
            role="region"
            aria-labelledby="subscription-payments-caption"
            tabIndex={0}
          >
            <table className="data" data-testid="payments">
              <caption id="subscription-payments-caption" className="sr-only">
                {t('subscriptions.payments.title')}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('subscriptions.payments.key')}</th>
                  <th scope="col">{t('subscriptions.payments.attempt')}</th>
                  <th scope="col">{t('subscriptions.payments.due')}</th>
                  <th scope="col">{t('subscriptions.payments.amount')}</th>
                  <th scope="col">{t('subscriptions.payments.status')}</th>
                  <th scope="col">{t('subscriptions.payments.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((p) => (
                  <tr key={p.key} data-payment={p.key}>
                    <th scope="row">
                      <code>{p.key}</code>
                    </th>
                    <td className="num">{f.int(p.attempt)}</td>
                    <td>{f.when(p.dueAt)}</td>
                    <td className="num">{f.money(p.amountMinor)}</td>
                    <td data-part="status">{t(`subscriptions.payments.statuses.${p.status}`)}</td>
                    <td>{p.reason ?? <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {payments.hasNextPage ? (
            <button
              type="button"
              onClick={() => void payments.fetchNextPage()}
              disabled={payments.isFetchingNextPage}
            >
              {t('subscriptions.more')}
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}

/** An entry's detail in words (the API's `detail` object; an unknown shape as `key: value` pairs). */
function useDetailText(f: CampaignFormat) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const day = (v: unknown) =>
    typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? localDay(lang, v) : String(v);
  const value = (k: string, v: unknown): string => {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'number' && /Minor$/.test(k)) return f.money(v);
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return f.when(v);
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return localDay(lang, v);
    if (k === 'reason' && typeof v === 'string') return t(`subscriptions.reason.${v}`, { defaultValue: v });
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  };
  const generic = (d: Record<string, unknown>) =>
    Object.entries(d)
      .map(([k, v]) => `${k}: ${value(k, v)}`)
      .join('; ');
  return (type: string, d: Record<string, unknown> | null): string => {
    if (!d) return '';
    const has = (...keys: string[]) => keys.every((k) => d[k] !== undefined && d[k] !== null);
    switch (type) {
      case 'created':
        if (has('plan', 'sku', 'quantity', 'firstDelivery'))
          return t('subscriptions.history.text.created', {
            plan: d.plan,
            sku: d.sku,
            quantity: d.quantity,
            date: day(d.firstDelivery),
          });
        break;
      case 'skipped':
        if (has('skipped', 'next'))
          return t('subscriptions.history.text.skipped', { skipped: day(d.skipped), next: day(d.next) });
        break;
      case 'rescheduled':
      case 'quantity_changed':
      case 'swapped':
        if (has('from', 'to'))
          return t('subscriptions.history.text.fromTo', {
            from: type === 'quantity_changed' || type === 'swapped' ? String(d.from) : day(d.from),
            to: type === 'quantity_changed' || type === 'swapped' ? String(d.to) : day(d.to),
          });
        break;
      case 'paused':
        if (has('until')) return t('subscriptions.history.text.paused', { date: day(d.until) });
        break;
      case 'resumed':
      case 'reactivated':
        if (has('from')) return t('subscriptions.history.text.from', { date: day(d.from) });
        break;
      case 'cancelled':
        if (has('reason'))
          return [value('reason', d.reason), typeof d.note === 'string' ? d.note : '']
            .filter(Boolean)
            .join(' — ');
        break;
      case 'reminded':
        if (has('delivery')) return t('subscriptions.history.text.reminded', { date: day(d.delivery) });
        break;
      case 'payment_succeeded':
      case 'payment_failed':
      case 'dunning_exhausted':
        if (has('attempt', 'key'))
          return [
            t('subscriptions.history.text.attempt', { attempt: d.attempt, key: d.key }),
            typeof d.reason === 'string' ? d.reason : '',
            has('nextAttemptAt')
              ? t('subscriptions.history.text.nextAttempt', { when: value('nextAttemptAt', d.nextAttemptAt) })
              : '',
            typeof d.finalAction === 'string'
              ? t(`subscriptions.history.text.final.${d.finalAction}`, { defaultValue: d.finalAction })
              : '',
            has('pausedUntil') ? t('subscriptions.history.text.paused', { date: day(d.pausedUntil) }) : '',
          ]
            .filter(Boolean)
            .join('; ');
        break;
      case 'order':
        if (has('order', 'amountMinor'))
          return t('subscriptions.history.text.order', {
            order: d.order,
            amount: value('amountMinor', d.amountMinor),
          });
        break;
    }
    return generic(d);
  };
}

function History({ x, f }: { x: SubscriptionDetail; f: CampaignFormat }) {
  const { t } = useTranslation();
  const text = useDetailText(f);
  return (
    <section aria-labelledby="subscription-history-title">
      <h2 id="subscription-history-title">{t('subscriptions.history.title')}</h2>
      <div className="table-wrap" role="region" aria-labelledby="subscription-history-caption" tabIndex={0}>
        <table className="data" data-testid="history">
          <caption id="subscription-history-caption" className="sr-only">
            {t('subscriptions.history.title')}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t('subscriptions.history.at')}</th>
              <th scope="col">{t('subscriptions.history.type')}</th>
              <th scope="col">{t('subscriptions.history.cycle')}</th>
              <th scope="col">{t('subscriptions.history.detail')}</th>
              <th scope="col">{t('subscriptions.history.by')}</th>
            </tr>
          </thead>
          <tbody>
            {x.history.map((h, i) => (
              <tr key={i} data-type={h.type}>
                <td>{f.when(h.at)}</td>
                <th scope="row">{t(`subscriptions.history.types.${h.type}`, { defaultValue: h.type })}</th>
                <td className="num">{h.cycle === null ? '—' : f.int(h.cycle)}</td>
                <td style={{ overflowWrap: 'anywhere' }}>{text(h.type, h.detail)}</td>
                <td>{h.by === 'schedule' ? t('subscriptions.history.bySchedule') : byWhom(h.by)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
