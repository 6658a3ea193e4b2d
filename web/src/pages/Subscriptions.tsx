import { useInfiniteQuery } from '@tanstack/react-query';
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, NavLink, useSearchParams } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import { campaignFormat, errorsByPath } from './CampaignCommon';
import {
  NextDelivery,
  ProductName,
  SUBSCRIPTION_STATUSES,
  SubscriptionStatusBadge,
  usePlans,
  useSubscriptionRights,
  type Page,
  type Subscription,
} from './SubscriptionsCommon';
import { PlansView } from './SubscriptionsPlans';

// The report (its tables, and ECharts with it) is loaded only when its tab is open.
const ReportView = lazy(() => import('./SubscriptionsReport').then((m) => ({ default: m.ReportView })));

/** The list's page size (keyset pages, "Show more" for the next). */
const PAGE = 25;

/**
 * Subscriptions (docs/subscriptions.md): the list (`/subscriptions`), the plans (`/subscriptions/plans`,
 * SubscriptionsPlans.tsx) and the report (`/subscriptions/report`, SubscriptionsReport.tsx) as three
 * tabs of one page.
 */
export function SubscriptionsPage({ view = 'list' }: { view?: 'list' | 'plans' | 'report' }) {
  const { t } = useTranslation();
  const rights = useSubscriptionRights();
  return (
    <section aria-labelledby="subscriptions-title" className="campaign-page">
      <h1 id="subscriptions-title">{t('subscriptions.title')}</h1>
      <p className="muted">{t('subscriptions.intro')}</p>
      <nav aria-label={t('subscriptions.tabs.label')} className="toolbar tabs">
        <NavLink to="/subscriptions" end>
          {t('subscriptions.tabs.list')}
        </NavLink>
        <NavLink to="/subscriptions/plans">{t('subscriptions.tabs.plans')}</NavLink>
        <NavLink to="/subscriptions/report">{t('subscriptions.tabs.report')}</NavLink>
        {rights.write ? (
          <Link className="button" to="/subscriptions/new">
            {t('subscriptions.new')}
          </Link>
        ) : null}
      </nav>
      {view === 'plans' ? (
        <PlansView />
      ) : view === 'report' ? (
        <Suspense fallback={<p role="status">{t('common.loading')}</p>}>
          <ReportView />
        </Suspense>
      ) : (
        <ListView />
      )}
    </section>
  );
}

/**
 * The subscriptions as `GET /v1/subscriptions` lists them (by id, a keyset page at a time), filtered by
 * status, plan and customer id — the filters in the address: id, customer (their page), plan, product,
 * quantity, status, the next delivery's local date (the customer's calendar) and MRR.
 */
function ListView() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const plan = params.get('plan') ?? '';
  const customer = params.get('customer') ?? '';
  const [customerText, setCustomerText] = useState(customer);
  const plans = usePlans();
  const set = (k: string, v: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (v) next.set(k, v);
        else next.delete(k);
        return next;
      },
      { replace: true },
    );
  const list = useInfiniteQuery({
    queryKey: ['subscriptions', { status, plan, customer }],
    initialPageParam: '',
    queryFn: ({ pageParam }) => {
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (status) q.set('status', status);
      if (plan) q.set('plan', plan);
      if (customer) q.set('customer', customer);
      if (pageParam) q.set('cursor', pageParam);
      return api<Page<Subscription>>(`/v1/subscriptions?${q.toString()}`);
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    retry: false,
  });
  // An unknown customer id (or plan) is the API's 400 naming the filter: shown beside it.
  const refused = errorsByPath(list.error);
  const customerError = refused.get('customer');
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <form
        className="range"
        aria-label={t('subscriptions.filters')}
        onSubmit={(e) => {
          e.preventDefault();
          set('customer', customerText.trim());
        }}
      >
        <label>
          {t('subscriptions.statusLabel')}{' '}
          <select value={status} onChange={(e) => set('status', e.target.value)}>
            <option value="">{t('subscriptions.statusAny')}</option>
            {SUBSCRIPTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`subscriptions.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('subscriptions.planLabel')}{' '}
          <select value={plan} onChange={(e) => set('plan', e.target.value)}>
            <option value="">{t('subscriptions.planAny')}</option>
            {(plans.data?.data ?? []).map((p) => (
              <option key={p.name} value={p.name}>
                {p.definition.title ? `${p.definition.title} (${p.name})` : p.name}
              </option>
            ))}
            {plan && plans.data && !plans.data.data.some((p) => p.name === plan) ? (
              <option value={plan}>{plan}</option>
            ) : null}
          </select>
        </label>
        <span>
          <label htmlFor="subscriptions-customer">{t('subscriptions.customerLabel')}</label>{' '}
          <input
            id="subscriptions-customer"
            value={customerText}
            autoComplete="off"
            aria-invalid={!!customerError}
            aria-describedby={customerError ? 'subscriptions-customer-error' : undefined}
            onChange={(e) => setCustomerText(e.target.value)}
          />{' '}
          <button type="submit" className="secondary">
            {t('subscriptions.apply')}
          </button>
          {customer ? (
            <>
              {' '}
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setCustomerText('');
                  set('customer', '');
                }}
              >
                {t('subscriptions.clearCustomer')}
              </button>
            </>
          ) : null}
        </span>
        {customerError ? (
          <span id="subscriptions-customer-error" className="field-error" data-error-for="customer">
            {customerError}
          </span>
        ) : null}
      </form>
      <p className="muted">{t('subscriptions.zoneNote')}</p>
      {list.data ? (
        rows.length === 0 ? (
          <p data-testid="no-subscriptions">{t('subscriptions.empty')}</p>
        ) : (
          <>
            <div
              className="table-wrap"
              role="region"
              aria-labelledby="subscriptions-table-caption"
              tabIndex={0}
            >
              <table className="data wide" data-testid="subscriptions">
                <caption id="subscriptions-table-caption" className="sr-only">
                  {t('subscriptions.table')}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{t('subscriptions.col.id')}</th>
                    <th scope="col">{t('subscriptions.col.customer')}</th>
                    <th scope="col">{t('subscriptions.col.plan')}</th>
                    <th scope="col">{t('subscriptions.col.product')}</th>
                    <th scope="col">{t('subscriptions.col.quantity')}</th>
                    <th scope="col">{t('subscriptions.col.status')}</th>
                    <th scope="col">{t('subscriptions.col.next')}</th>
                    <th scope="col">{t('subscriptions.col.mrr')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((x) => (
                    <tr key={x.id} data-subscription={x.id}>
                      <th scope="row">
                        <Link
                          to={`/subscriptions/${encodeURIComponent(x.id)}`}
                          state={{ list: params.toString() }}
                        >
                          {t('subscriptions.idLabel', { id: x.id })}
                        </Link>
                      </th>
                      <td>
                        <Link to={`/customers/${encodeURIComponent(x.customer)}`}>{x.customer}</Link>
                      </td>
                      <td>{x.plan}</td>
                      <td>
                        <ProductName sku={x.sku} title={x.title} />
                      </td>
                      <td className="num">{campaignFormat(lang, null, 'UTC').int(x.quantity)}</td>
                      <td>
                        <SubscriptionStatusBadge status={x.status} />
                      </td>
                      <td data-part="next">
                        <NextDelivery x={x} lang={lang} />
                      </td>
                      <td className="num" data-part="mrr">
                        {campaignFormat(lang, x.currency, x.timeZone).money(x.mrrMinor)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {list.hasNextPage ? (
              <button
                type="button"
                onClick={() => void list.fetchNextPage()}
                disabled={list.isFetchingNextPage}
              >
                {t('subscriptions.more')}
              </button>
            ) : null}
          </>
        )
      ) : customerError ? null : (
        <Status query={list} />
      )}
    </>
  );
}
