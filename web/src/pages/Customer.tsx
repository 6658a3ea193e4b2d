import type { Send } from './Messages';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { ClvRun } from '../components/ClvRun';
import { Status } from '../components/Status';
import { fmt } from '../format';
import { day, nameOf, type CustomerScores, type ScoresContext } from './Customers';
import { CustomerSubscriptions } from './SubscriptionsCommon';

/** `GET /v1/customers/{id}`. */
interface Customer {
  id: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  birthday: string | null;
  country: string | null;
  acquisitionChannel: string | null;
  createdAt: string | null;
  consent: Record<Channel, { status: string; changedAt: string | null; source: string | null } | null>;
  locale: string | null;
  timeZone: string | null;
}
type Channel = 'email' | 'sms' | 'messenger' | 'ads';
const CHANNELS: Channel[] = ['email', 'sms', 'messenger', 'ads'];

/** `GET /v1/customers/{id}/recommendations`. */
interface Recommendations {
  recommendations: { sku: string; title: string; score: number; reasons: string[] }[];
}

/** `GET /v1/customers/{id}/timeline`. */
interface TimelinePage {
  data: {
    kind: string;
    title?: string;
    id: string;
    at: string;
    amountMinor: number | null;
    currency: string | null;
    detail: string | null;
  }[];
  nextCursor: string | null;
}

type Kinds = 'all' | 'order' | 'refund' | 'event';

/** Minor units → major units of a currency (the digits Intl knows for it). */
const fromMinor = (minor: number, currency: string) =>
  minor /
  10 **
    (new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2);

/** One customer on one page: figures, profile, consent, recommendations, and their history. */
export function CustomerPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const id = useParams().id ?? '';
  const path = `/v1/customers/${encodeURIComponent(id)}`;
  const customer = useQuery({ queryKey: ['customer', id], queryFn: () => api<Customer>(path) });
  const scores = useQuery({
    queryKey: ['customer-scores', id],
    queryFn: () => api<ScoresContext & { scores: CustomerScores }>(`${path}/scores`),
    enabled: customer.isSuccess,
  });
  const recs = useQuery({
    queryKey: ['customer-recommendations', id],
    queryFn: () => api<Recommendations>(`${path}/recommendations?n=10`),
    enabled: customer.isSuccess,
  });
  const messages = useQuery({
    queryKey: ['customer-messages', id],
    queryFn: () =>
      api<{ data: Send[]; nextCursor: string | null }>(
        `/v1/messages?limit=20&customer=${encodeURIComponent(id)}`,
      ),
    enabled: customer.isSuccess,
  });
  const loyalty = useQuery({
    queryKey: ['customer-loyalty', id],
    queryFn: () =>
      api<{ available: number; pending: number; tier: string | null }>(
        `/v1/loyalty/members/${encodeURIComponent(id)}`,
      ),
    enabled: customer.isSuccess,
    retry: false,
  });
  const [kinds, setKinds] = useState<Kinds>('all');
  const timeline = useInfiniteQuery({
    queryKey: ['customer-timeline', id, kinds],
    queryFn: ({ pageParam }) =>
      api<TimelinePage>(
        `${path}/timeline?limit=20${kinds === 'all' ? '' : `&kinds=${kinds}`}${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
      ),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: customer.isSuccess,
  });

  if (customer.error instanceof ApiError && customer.error.status === 404)
    return (
      <section aria-labelledby="customer-title">
        <h1 id="customer-title">{id}</h1>
        <p role="alert">{t('customer.notFound', { id })}</p>
        <Link to="/customers">{t('customer.back')}</Link>
      </section>
    );
  if (!customer.data) return <Status query={customer} />;
  const c = customer.data;
  const name = nameOf(c);
  return (
    <section aria-labelledby="customer-title">
      <p>
        <Link to="/customers">← {t('customer.back')}</Link>
      </p>
      <h1 id="customer-title">
        {name || c.id} {name && <span className="muted id">{c.id}</span>}
      </h1>

      <h2>{t('customer.figures')}</h2>
      {scores.data ? <Figures data={scores.data} lang={lang} /> : <Status query={scores} />}

      <div className="columns">
        <div>
          <h2>{t('customer.profile')}</h2>
          <dl className="facts">
            {(
              [
                ['email', c.email],
                ['phone', c.phone],
                ['country', c.country],
                ['acquisitionChannel', c.acquisitionChannel],
                ['createdAt', c.createdAt ? day(lang, c.createdAt) : null],
                ['birthday', c.birthday ? day(lang, `${c.birthday}T00:00:00Z`) : null],
                ['locale', c.locale ?? t('customer.storeDefault')],
                ['timeZone', c.timeZone ?? t('customer.storeDefault')],
              ] as const
            ).map(([k, v]) => (
              <div key={k}>
                <dt>{t(`customer.${k}`)}</dt>
                <dd>{v ?? '—'}</dd>
              </div>
            ))}
          </dl>
        </div>
        <div>
          <h2 id="consent-title">{t('customer.consent')}</h2>
          <table className="data" aria-labelledby="consent-title" data-testid="consent">
            <thead>
              <tr>
                <th scope="col">{t('customer.channel')}</th>
                <th scope="col">{t('customer.status')}</th>
                <th scope="col">{t('customer.changedAt')}</th>
                <th scope="col">{t('customer.source')}</th>
              </tr>
            </thead>
            <tbody>
              {CHANNELS.map((ch) => {
                const s = c.consent[ch];
                return (
                  <tr key={ch} data-channel={ch}>
                    <th scope="row">{t(`customer.channels.${ch}`)}</th>
                    <td data-col="status" data-status={s?.status ?? 'never'}>
                      {t(`customer.statuses.${s?.status ?? 'never'}`)}
                    </td>
                    <td>{s?.changedAt ? day(lang, s.changedAt) : '—'}</td>
                    <td>{s?.source ?? '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>

      <h2 id="recs-title">{t('customer.recommendations')}</h2>
      {recs.error instanceof ApiError && recs.error.status === 404 ? (
        <p>{t('customer.noRecommendations')}</p>
      ) : !recs.data ? (
        <Status query={recs} />
      ) : recs.data.recommendations.length === 0 ? (
        <p>{t('customer.noRecommendations')}</p>
      ) : (
        <table className="data" aria-labelledby="recs-title" data-testid="recommendations">
          <thead>
            <tr>
              <th scope="col">{t('customer.product')}</th>
              <th scope="col">{t('customer.score')}</th>
              <th scope="col">{t('customer.why')}</th>
            </tr>
          </thead>
          <tbody>
            {recs.data.recommendations.map((r) => (
              <tr key={r.sku} data-sku={r.sku}>
                <th scope="row">
                  {r.title} <span className="muted id">{r.sku}</span>
                </th>
                <td className="num" data-col="score">
                  {fmt.dec(lang, r.score, 3)}
                </td>
                <td>{r.reasons.join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2 id="loyalty-title">{t('customer.loyalty')}</h2>
      {loyalty.error instanceof ApiError && loyalty.error.status === 404 ? (
        <p>{t('customer.loyaltyNotMember')}</p>
      ) : loyalty.error instanceof ApiError && loyalty.error.status === 409 ? (
        <p>{t('customer.loyaltyNoProgramme')}</p>
      ) : !loyalty.data ? (
        <Status query={loyalty} />
      ) : (
        <p data-testid="customer-loyalty">
          {t('customer.loyaltyLine', {
            available: fmt.int(lang, loyalty.data.available),
            pending: fmt.int(lang, loyalty.data.pending),
            tier: loyalty.data.tier ?? t('customer.loyaltyNoTier'),
          })}{' '}
          <Link to={`/loyalty/members/${encodeURIComponent(id)}`}>{t('customer.loyaltyOpen')}</Link>
        </p>
      )}

      <CustomerSubscriptions customer={id} />

      <h2 id="messages-title">{t('customer.messages')}</h2>
      {messages.error instanceof ApiError && messages.error.status === 403 ? (
        <p>{t('customer.messagesForbidden')}</p>
      ) : !messages.data ? (
        <Status query={messages} />
      ) : messages.data.data.length === 0 ? (
        <p>{t('customer.noMessages')}</p>
      ) : (
        <table className="data" aria-labelledby="messages-title" data-testid="customer-messages">
          <thead>
            <tr>
              <th scope="col">{t('messages.template')}</th>
              <th scope="col">{t('messages.channel')}</th>
              <th scope="col">{t('messages.source')}</th>
              <th scope="col">{t('messages.statusLabel')}</th>
              <th scope="col">{t('messages.reason')}</th>
              <th scope="col">{t('messages.created')}</th>
            </tr>
          </thead>
          <tbody>
            {messages.data.data.map((m) => (
              <tr key={m.key} data-key={m.key}>
                <td>
                  {m.template} v{m.templateVersion}
                </td>
                <td>{m.channel}</td>
                <td>{m.source}</td>
                <td>{t(`messages.status.${m.status}`)}</td>
                <td>{m.reason ?? ''}</td>
                <td>
                  {new Date(m.createdAt).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' })}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2 id="timeline-title">{t('customer.timeline')}</h2>
      <label>
        {t('customer.show')}{' '}
        <select value={kinds} onChange={(e) => setKinds(e.target.value as Kinds)}>
          {(['all', 'order', 'refund', 'event'] as const).map((k) => (
            <option key={k} value={k}>
              {t(`customer.kinds.${k}`)}
            </option>
          ))}
        </select>
      </label>
      {!timeline.data ? (
        <Status query={timeline} />
      ) : timeline.data.pages[0]?.data.length === 0 ? (
        <p>{t('customer.nothing')}</p>
      ) : (
        <>
          <table className="data" aria-labelledby="timeline-title" data-testid="timeline">
            <thead>
              <tr>
                <th scope="col">{t('customer.at')}</th>
                <th scope="col">{t('customer.kind')}</th>
                <th scope="col">{t('customer.ref')}</th>
                <th scope="col">{t('customer.amount')}</th>
                <th scope="col">{t('customer.detail')}</th>
              </tr>
            </thead>
            <tbody>
              {timeline.data.pages.flatMap((p) =>
                p.data.map((e) => (
                  <tr key={`${e.kind}:${e.id}`}>
                    <td>
                      {new Date(e.at).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' })}
                    </td>
                    <td>{t(`customer.kindOf.${e.kind}`, { defaultValue: e.kind })}</td>
                    <th scope="row">{e.id}</th>
                    <td className="num">
                      {e.amountMinor !== null && e.currency
                        ? fmt.money(lang, fromMinor(e.amountMinor, e.currency), e.currency)
                        : '—'}
                    </td>
                    <td>{e.detail ?? e.title ?? '—'}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
          {timeline.hasNextPage && (
            <button
              type="button"
              onClick={() => void timeline.fetchNextPage()}
              disabled={timeline.isFetchingNextPage}
            >
              {t('customer.more')}
            </button>
          )}
        </>
      )}
    </section>
  );
}

/** The customer's figures: stored scores and the latest CLV run's prediction. */
function Figures({ data, lang }: { data: ScoresContext & { scores: CustomerScores }; lang: string }) {
  const { t } = useTranslation();
  const s = data.scores;
  const money = (v: number | null) =>
    v === null ? '—' : data.currency ? fmt.money(lang, v, data.currency) : fmt.dec(lang, v);
  const figures: [string, string][] = [
    ['orders', s.orders === null ? '—' : fmt.int(lang, s.orders)],
    ['revenue', money(s.revenue)],
    ['aov', money(s.aov)],
    ['firstOrderAt', day(lang, s.firstOrderAt)],
    ['lastOrderAt', day(lang, s.lastOrderAt)],
    ['rfmSegment', s.rfmSegment ? `${s.rfmSegment} (${s.rfm})` : '—'],
  ];
  if (s.pAlive !== null)
    figures.push(
      ['pAlive', fmt.pct(lang, s.pAlive)],
      ['churnRisk', fmt.pct(lang, s.churnRisk!)],
      ['clv', money(s.clv)],
      ['expectedPurchases', s.expectedPurchases === null ? '—' : fmt.dec(lang, s.expectedPurchases)],
      ['nextOrderAt', day(lang, s.nextOrderAt)],
    );
  return (
    <>
      <dl className="cards">
        {figures.map(([k, v]) => (
          <div className="card" key={k} data-figure={k}>
            <dt>{t(`customer.${k}`)}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {s.pAlive === null && (
        <div>
          <p>{t('customer.noPrediction')}</p>
          {!data.clvRun && <ClvRun />}
        </div>
      )}
    </>
  );
}
