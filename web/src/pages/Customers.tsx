import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api } from '../api';
import { ClvRun } from '../components/ClvRun';
import { Status } from '../components/Status';
import { fmt } from '../format';

/** `scores` of `GET /v1/customers` and `GET /v1/customers/{id}/scores` (money in major units). */
export interface CustomerScores {
  orders: number | null;
  revenue: number | null;
  aov: number | null;
  firstOrderAt: string | null;
  lastOrderAt: string | null;
  rfmSegment: string | null;
  rfm: string | null;
  pAlive: number | null;
  churnRisk: number | null;
  expectedPurchases: number | null;
  clv: number | null;
  nextOrderAt: string | null;
}
export interface ScoresContext {
  currency: string | null;
  scoresAt: string | null;
  clvRun: { modelVersion: string; asOf: string } | null;
}
interface ListItem {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  scores: CustomerScores;
}
interface CustomerPage extends ScoresContext {
  data: ListItem[];
  nextCursor: string | null;
  total: number;
}

const SORTS = [
  'id',
  'orders',
  'revenue',
  'lastOrderAt',
  'pAlive',
  'churnRisk',
  'clv',
  'nextOrderAt',
] as const;
type Sort = (typeof SORTS)[number];
const DEFAULT_ASC = new Set<Sort>(['id', 'nextOrderAt']);
const PAGE_SIZE = 50;
type Column = Sort | 'email' | 'rfm';

/** A day in the interface language (UTC: the API's instants are days or UTC times). */
export const day = (lang: string, iso: string | null) =>
  iso ? new Date(iso).toLocaleDateString(lang, { timeZone: 'UTC', dateStyle: 'medium' }) : '—';
export const nameOf = (c: { firstName: string | null; lastName: string | null }) =>
  [c.firstName, c.lastName].filter(Boolean).join(' ');

/** The customers: searched, sorted and paged by the server (`GET /v1/customers`), with their scores. */
export function CustomersPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const queries = useQueryClient();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const sortParam = params.get('sort') as Sort | null;
  const sort: Sort = sortParam && SORTS.includes(sortParam) ? sortParam : 'id';
  const order = params.get('order') === 'asc' || params.get('order') === 'desc' ? params.get('order')! : null;
  const desc = order ? order === 'desc' : !DEFAULT_ASC.has(sort);
  // The cursors of the pages before this one (the first page has none), for this search and sort only
  // (the back button may change them under the page).
  const listKey = `${q}|${sort}|${desc}`;
  const [paging, setPaging] = useState<{ key: string; cursors: string[] }>({ key: listKey, cursors: [] });
  const cursors = paging.key === listKey ? paging.cursors : [];
  const setCursors = (next: string[]) => setPaging({ key: listKey, cursors: next });
  const [typed, setTyped] = useState(q);
  const cursor = cursors[cursors.length - 1];
  const search = new URLSearchParams({
    limit: String(PAGE_SIZE),
    sort,
    order: desc ? 'desc' : 'asc',
    ...(q ? { q } : {}),
    ...(cursor ? { cursor } : {}),
  });
  const list = useQuery({
    queryKey: ['customers', search.toString()],
    queryFn: () => api<CustomerPage>(`/v1/customers?${search.toString()}`),
    placeholderData: (prev) => prev,
  });
  const refresh = useMutation({
    mutationFn: () => api('/v1/segments/refresh', { method: 'POST' }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['customers'] }),
  });
  const go = (next: Record<string, string | null>) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(next))
      if (v === null || v === '') p.delete(k);
      else p.set(k, v);
    setParams(p);
  };
  if (!list.data) return <Status query={list} />;
  const page = list.data;
  const currency = page.currency;
  const money = (v: number | null) =>
    v === null ? '—' : currency ? fmt.money(lang, v, currency) : fmt.dec(lang, v);
  const pct = (v: number | null) => (v === null ? '—' : fmt.pct(lang, v));
  const int = (v: number | null) => (v === null ? '—' : fmt.int(lang, v));
  const columns: { key: Column; sort?: Sort }[] = [
    { key: 'id' },
    { key: 'email' },
    { key: 'orders', sort: 'orders' },
    { key: 'revenue', sort: 'revenue' },
    { key: 'lastOrderAt', sort: 'lastOrderAt' },
    { key: 'rfm' },
    { key: 'pAlive', sort: 'pAlive' },
    { key: 'churnRisk', sort: 'churnRisk' },
    { key: 'clv', sort: 'clv' },
    { key: 'nextOrderAt', sort: 'nextOrderAt' },
  ];
  const direction = t(desc ? 'customers.descending' : 'customers.ascending');
  return (
    <section aria-labelledby="customers-title">
      <h1 id="customers-title">{t('customers.title')}</h1>
      <form
        role="search"
        className="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          go({ q: typed.trim() });
        }}
      >
        <label>
          {t('customers.search')}{' '}
          <input type="search" name="q" value={typed} onChange={(e) => setTyped(e.target.value)} />
        </label>
        <button type="submit">{t('customers.searchButton')}</button>
        <span data-testid="total" aria-live="polite">
          {t('customers.total', { count: page.total, n: fmt.int(lang, page.total) })}
        </span>
      </form>
      <div className="notes">
        {page.scoresAt ? (
          <p className="muted">
            {t('customers.scoresAt', {
              at: new Date(page.scoresAt).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }),
            })}
          </p>
        ) : (
          <div>
            <p>{t('customers.noScores')}</p>
            <button type="button" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
              {refresh.isPending ? t('customers.computing') : t('customers.computeScores')}
            </button>
            {refresh.error && <p role="alert">{t('common.error', { message: refresh.error.message })}</p>}
            <p className="muted">
              {t('customers.orCli')} <code>retain segments refresh</code>
            </p>
          </div>
        )}
        {page.clvRun ? (
          <p className="muted">{t('customers.clvRunAt', { day: day(lang, page.clvRun.asOf) })}</p>
        ) : (
          <div>
            <p>{t('customers.noRun')}</p>
            <ClvRun />
          </div>
        )}
      </div>
      {page.total === 0 && !q ? (
        <>
          <p>{t('customers.empty')}</p>
          <pre>
            <code>retain import customers customers.csv</code>
          </pre>
        </>
      ) : page.data.length === 0 ? (
        <p role="status">{t('customers.noMatch', { q })}</p>
      ) : (
        <div className="table-wrap">
          <table className="data" data-testid="customers">
            <caption className="sr-only">
              {t('customers.caption', { column: t(`customers.col.${sort}`), direction })}
            </caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th
                    key={c.key}
                    scope="col"
                    aria-sort={c.key === sort ? (desc ? 'descending' : 'ascending') : undefined}
                  >
                    {c.sort ? (
                      <button
                        type="button"
                        className="sort"
                        title={t('customers.sortBy', { column: t(`customers.col.${c.key}`) })}
                        onClick={() =>
                          go({
                            sort: c.sort!,
                            order: c.sort === sort ? (desc ? 'asc' : 'desc') : null,
                          })
                        }
                      >
                        {t(`customers.col.${c.key}`)}
                        <span aria-hidden="true">{c.sort === sort ? (desc ? ' ▼' : ' ▲') : ''}</span>
                      </button>
                    ) : (
                      t(`customers.col.${c.key}`)
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {page.data.map((c) => (
                <tr key={c.id} data-customer={c.id}>
                  <th scope="row" data-col="id">
                    <Link to={`/customers/${encodeURIComponent(c.id)}`}>{nameOf(c) || c.id}</Link>
                    {nameOf(c) && <span className="muted id"> {c.id}</span>}
                  </th>
                  <td data-col="email">{c.email ?? '—'}</td>
                  <td data-col="orders" className="num">
                    {int(c.scores.orders)}
                  </td>
                  <td data-col="revenue" className="num">
                    {money(c.scores.revenue)}
                  </td>
                  <td data-col="lastOrderAt">{day(lang, c.scores.lastOrderAt)}</td>
                  <td data-col="rfm">{c.scores.rfmSegment ?? '—'}</td>
                  <td data-col="pAlive" className="num">
                    {pct(c.scores.pAlive)}
                  </td>
                  <td data-col="churnRisk" className="num">
                    {pct(c.scores.churnRisk)}
                  </td>
                  <td data-col="clv" className="num">
                    {money(c.scores.clv)}
                  </td>
                  <td data-col="nextOrderAt">{day(lang, c.scores.nextOrderAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label={t('customers.page', { n: cursors.length + 1 })}>
        <button
          type="button"
          disabled={cursors.length === 0}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          {t('customers.prev')}
        </button>
        <span>{t('customers.page', { n: fmt.int(lang, cursors.length + 1) })}</span>
        <button
          type="button"
          disabled={!page.nextCursor || list.isFetching}
          onClick={() => page.nextCursor && setCursors([...cursors, page.nextCursor])}
        >
          {t('customers.next')}
        </button>
      </nav>
    </section>
  );
}
