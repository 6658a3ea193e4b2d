import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError, type Me } from '../api';
import { Status } from '../components/Status';
import { campaignFormat } from './CampaignCommon';

export const SUBSCRIPTION_STATUSES = ['active', 'paused', 'past_due', 'cancelled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const CANCEL_REASONS = [
  'too_expensive',
  'too_much_product',
  'not_needed',
  'quality',
  'delivery',
  'switching',
  'moving',
  'other',
] as const;

export interface Interval {
  every: number;
  unit: 'day' | 'week' | 'month';
}

/** A plan's definition as saved (src/modules/subscriptions/schema.ts `PlanDefinition`), read defensively. */
export interface PlanDefinition {
  name?: string;
  title?: string;
  interval?: Interval;
  discountPercent?: number;
  products?: string[];
  localTime?: string;
  reminderDays?: number;
  reminderTemplate?: string | null;
  dunning?: { retryDays?: number[]; finalAction?: string; pauseDays?: number; template?: string | null };
}

/** `GET /v1/subscription-plans` rows (`Plan`). */
export interface Plan {
  name: string;
  status: 'active' | 'archived';
  definition: PlanDefinition & Record<string, unknown>;
  subscribers: { active: number; paused: number; pastDue: number };
  createdAt: string;
  updatedAt: string;
}

/** `GET /v1/subscriptions` rows (`Subscription`). Money in minor units of `currency`. */
export interface Subscription {
  id: string;
  customer: string;
  plan: string;
  status: SubscriptionStatus;
  sku: string;
  title: string | null;
  quantity: number;
  unitPriceMinor: number;
  oneOffPriceMinor: number | null;
  currency: string;
  interval: Interval;
  localTime: string;
  timeZone: string;
  nextCycle: number;
  /** The next delivery instant (a paused one: when it resumes). */
  nextDelivery: string | null;
  /** Its local date in the customer's zone. */
  nextDeliveryLocal: string | null;
  pausedUntil: string | null;
  mrrMinor: number;
  address: Record<string, string> | null;
  cancelReason: string | null;
  cancelNote: string | null;
  startedAt: string;
  cancelledAt: string | null;
  updatedAt: string;
}

/** `GET /v1/subscriptions/{id}` (`SubscriptionDetail`). */
export interface SubscriptionDetail extends Subscription {
  upcoming: { cycle: number; at: string; localDate: string }[];
  orders: { cycle: number; order: string; dueAt: string; amountMinor: number }[];
  history: {
    at: string;
    type: string;
    cycle: number | null;
    detail: Record<string, unknown> | null;
    by: string | null;
  }[];
}

/** `GET /v1/subscription-payments` rows (`Payment`). */
export interface Payment {
  key: string;
  subscription: string;
  cycle: number;
  attempt: number;
  customer: string;
  order: string;
  amountMinor: number;
  currency: string;
  dueAt: string;
  status: 'due' | 'succeeded' | 'failed' | 'void';
  reason: string | null;
  reference: string | null;
  answeredAt: string | null;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export const subscriptionPath = (id: string) => `/v1/subscriptions/${encodeURIComponent(id)}`;
export const planPath = (name: string) => `/v1/subscription-plans/${encodeURIComponent(name)}`;

/**
 * What the signed-in role may do: `write` subscribe and act for a customer (admin, marketer, agent),
 * `manage` save and archive plans (admin, marketer). The API refuses the rest anyway; the pages do not
 * offer it.
 */
export function useSubscriptionRights(): { write: boolean; manage: boolean; known: boolean } {
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  const role = me.data?.role;
  return {
    known: role !== undefined,
    write: role === 'admin' || role === 'marketer' || role === 'agent',
    manage: role === 'admin' || role === 'marketer',
  };
}

/** The plans (`GET /v1/subscription-plans`), shared by the list's filter, the plans view and the forms. */
export function usePlans() {
  return useQuery({
    queryKey: ['subscription-plans'],
    queryFn: () => api<{ data: Plan[] }>('/v1/subscription-plans'),
  });
}

/** The badge's colour, borrowed from the campaigns' (the word is there too). */
const LOOK: Record<SubscriptionStatus, string> = {
  active: 'sending',
  paused: 'paused',
  past_due: 'scheduled',
  cancelled: 'cancelled',
};

export function SubscriptionStatusBadge({ status }: { status: SubscriptionStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${LOOK[status] ?? 'draft'}`} data-status={status}>
      {t(`subscriptions.status.${status}`)}
    </span>
  );
}

export function PlanStatusBadge({ status }: { status: Plan['status'] }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${status === 'active' ? 'sending' : 'cancelled'}`} data-status={status}>
      {t(`subscriptions.plans.status.${status}`)}
    </span>
  );
}

/** A local date `YYYY-MM-DD` as it reads ("Mar 31, 2027"): a calendar day, no zone to convert. */
export const localDay = (lang: string, date: string) =>
  new Date(`${date}T00:00:00Z`).toLocaleDateString(lang, { dateStyle: 'medium', timeZone: 'UTC' });

/** "every month", "every 2 weeks" in the interface language. */
export function useIntervalText() {
  const { t } = useTranslation();
  return (i: Interval | undefined) =>
    !i
      ? '—'
      : i.every === 1
        ? t(`subscriptions.intervalOne.${i.unit}`)
        : t(`subscriptions.interval.${i.unit}`, { count: i.every });
}

/** The subscription's product: its title and sku, or the sku. */
export function ProductName({ sku, title }: { sku: string; title: string | null }) {
  return title ? (
    <>
      {title} <span className="muted id">{sku}</span>
    </>
  ) : (
    <>{sku}</>
  );
}

/**
 * A customer's subscriptions (`GET /v1/subscriptions?customer=`) as a small table for their page: each
 * linking to its own, its plan, product, status and next delivery; "New subscription" for them.
 */
export function CustomerSubscriptions({ customer }: { customer: string }) {
  const { t, i18n } = useTranslation();
  const rights = useSubscriptionRights();
  const list = useQuery({
    queryKey: ['subscriptions', { customer }],
    queryFn: () =>
      api<Page<Subscription>>(`/v1/subscriptions?limit=100&customer=${encodeURIComponent(customer)}`),
    retry: false,
  });
  return (
    <section aria-labelledby="customer-subscriptions-title">
      <h2 id="customer-subscriptions-title">{t('subscriptions.customer.title')}</h2>
      {list.error instanceof ApiError && list.error.status === 403 ? (
        <p>{t('subscriptions.customer.forbidden')}</p>
      ) : !list.data ? (
        <Status query={list} />
      ) : list.data.data.length === 0 ? (
        <p data-testid="customer-no-subscriptions">{t('subscriptions.customer.none')}</p>
      ) : (
        <div
          className="table-wrap"
          role="region"
          aria-labelledby="customer-subscriptions-caption"
          tabIndex={0}
        >
          <table className="data" data-testid="customer-subscriptions">
            <caption id="customer-subscriptions-caption" className="sr-only">
              {t('subscriptions.customer.title')}
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('subscriptions.col.id')}</th>
                <th scope="col">{t('subscriptions.col.plan')}</th>
                <th scope="col">{t('subscriptions.col.product')}</th>
                <th scope="col">{t('subscriptions.col.quantity')}</th>
                <th scope="col">{t('subscriptions.col.status')}</th>
                <th scope="col">{t('subscriptions.col.next')}</th>
                <th scope="col">{t('subscriptions.col.mrr')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((x) => (
                <tr key={x.id} data-subscription={x.id}>
                  <th scope="row">
                    <Link to={`/subscriptions/${encodeURIComponent(x.id)}`}>
                      {t('subscriptions.idLabel', { id: x.id })}
                    </Link>
                  </th>
                  <td>{x.plan}</td>
                  <td>
                    <ProductName sku={x.sku} title={x.title} />
                  </td>
                  <td className="num">{x.quantity}</td>
                  <td>
                    <SubscriptionStatusBadge status={x.status} />
                  </td>
                  <td>
                    <NextDelivery x={x} lang={i18n.language} />
                  </td>
                  <td className="num">
                    {campaignFormat(i18n.language, x.currency, x.timeZone).money(x.mrrMinor)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rights.write ? (
        <p>
          <Link to={`/subscriptions/new?customer=${encodeURIComponent(customer)}`}>
            {t('subscriptions.new')}
          </Link>
        </p>
      ) : null}
    </section>
  );
}

/** The next delivery's local date (the customer's calendar); a paused one's is when it resumes. */
export function NextDelivery({ x, lang }: { x: Subscription; lang: string }) {
  const { t } = useTranslation();
  if (!x.nextDeliveryLocal) return <span className="muted">—</span>;
  const day = localDay(lang, x.nextDeliveryLocal);
  return <>{x.status === 'paused' ? t('subscriptions.resumes', { date: day }) : day}</>;
}
