import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import {
  loyaltyFormat,
  useLoyaltyRights,
  useStoreZone,
  newKey,
  useProgram,
  type LedgerEntry,
  type Member,
  type Program,
  type Redemption,
  type TierChange,
} from './LoyaltyCommon';

/** Every loyalty query (the member's, the list's, the report's) is stale after a change. */
const isLoyalty = (q: { queryKey: readonly unknown[] }) =>
  String(q.queryKey[0]).startsWith('loyalty') && q.queryKey[0] !== 'loyalty-program';

/**
 * One member (`/loyalty/members/:customer`): balance, pending, debt, tier and the next one, points
 * expiring soon; redeem and adjust (each form sends one idempotency key until its fields change, so a
 * double click or a retry spends once); the card link; redemptions (reverse), the ledger (paged) and the
 * tier history.
 */
export function MemberPanel({ customer }: { customer: string }) {
  const { t, i18n } = useTranslation();
  const f = loyaltyFormat(i18n.language, useStoreZone());
  const client = useQueryClient();
  const path = `/v1/loyalty/members/${encodeURIComponent(customer)}`;
  const program = useProgram();
  const rights = useLoyaltyRights();
  const member = useQuery({ queryKey: ['loyalty-member', customer], queryFn: () => api<Member>(path) });
  const ok = member.isSuccess;
  const redemptions = useQuery({
    queryKey: ['loyalty-redemptions', customer],
    queryFn: () => api<{ data: Redemption[] }>(`${path}/redemptions`),
    enabled: ok,
  });
  const tiers = useQuery({
    queryKey: ['loyalty-tiers', customer],
    queryFn: () => api<{ data: TierChange[] }>(`${path}/tiers`),
    enabled: ok,
  });
  const ledger = useInfiniteQuery({
    queryKey: ['loyalty-ledger', customer],
    initialPageParam: '',
    queryFn: ({ pageParam }) =>
      api<{ data: LedgerEntry[]; nextCursor: string | null }>(
        `${path}/ledger?limit=20${pageParam ? `&cursor=${encodeURIComponent(pageParam)}` : ''}`,
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: ok,
  });
  const refresh = () => client.invalidateQueries({ predicate: isLoyalty });
  const enrol = useMutation({
    mutationFn: () => api('/v1/loyalty/members', { method: 'POST', body: { customer } }),
    onSuccess: refresh,
  });
  const reverse = useMutation({
    mutationFn: (id: number) =>
      api<{ redemption: Redemption; reversed: boolean }>(`/v1/loyalty/redemptions/${id}/reverse`, {
        method: 'POST',
        body: {},
      }),
    onSettled: refresh,
  });
  const cardLink = useMutation({
    mutationFn: () => api<{ url: string; token: string }>(`${path}/card-link`),
  });

  const header = (
    <>
      <p>
        <Link to="/loyalty">← {t('loyalty.member.back')}</Link>
      </p>
      <h1 id="member-title">{t('loyalty.member.title', { customer })}</h1>
    </>
  );
  if (member.error instanceof ApiError && member.error.status === 404)
    return (
      <section aria-labelledby="member-title">
        {header}
        <p role="alert" data-testid="member-missing">
          {member.error.message}
        </p>
        {rights.write ? (
          <p>
            <button type="button" disabled={enrol.isPending} onClick={() => enrol.mutate()}>
              {t('loyalty.member.notMember')}
            </button>
          </p>
        ) : null}
        {enrol.error ? <p role="alert">{enrol.error.message}</p> : null}
      </section>
    );
  if (!member.data || !program.data)
    return (
      <section aria-labelledby="member-title">
        {header}
        <Status query={member.data ? program : member} />
      </section>
    );
  const m = member.data;
  const p = program.data;
  const currency = m.currency;
  const money = (minor: number) => (currency ? f.money(minor, currency) : f.points(minor));
  const basis = (v: number) => (p.config.tiers.basis === 'spend' ? money(v) : f.points(v));
  const rows = ledger.data?.pages.flatMap((x) => x.data) ?? [];
  return (
    <section aria-labelledby="member-title">
      {header}
      <p className="toolbar">
        <span data-testid="member-card">
          {t('loyalty.member.card', { number: m.cardNumber, at: f.day(m.enrolledAt) })}
        </span>
        <Link to={`/customers/${encodeURIComponent(customer)}`}>{t('loyalty.member.customer360')}</Link>
      </p>
      <dl className="cards" data-testid="member-figures">
        <div className="card" data-figure="available">
          <dt>{t('loyalty.member.available')}</dt>
          <dd>
            <span data-part="main">{f.points(m.available)}</span>{' '}
            <small className="sub" data-part="sub">
              {t('loyalty.figures.worth', { value: money(m.valueMinor) })}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="pending">
          <dt title={t('loyalty.member.pendingHelp')}>{t('loyalty.member.pending')}</dt>
          <dd>
            <span data-part="main">{f.points(m.pending)}</span>
          </dd>
        </div>
        <div className="card" data-figure="debt">
          <dt>{t('loyalty.member.debt')}</dt>
          <dd>
            <span data-part="main">{f.points(m.debt)}</span>
          </dd>
        </div>
        <div className="card" data-figure="tier">
          <dt>{t('loyalty.member.tier')}</dt>
          <dd>
            <span data-part="main">{m.tier ?? t('loyalty.member.noTier')}</span>{' '}
            <small className="sub" data-part="sub">
              {[
                m.tierSince ? t('loyalty.member.tierSince', { at: f.day(m.tierSince) }) : '',
                m.downgradeAt ? t('loyalty.member.downgrade', { at: f.day(m.downgradeAt) }) : '',
              ]
                .filter(Boolean)
                .join('; ')}
            </small>
          </dd>
        </div>
        <div className="card" data-figure="next-tier">
          <dt>{t('loyalty.member.nextTier')}</dt>
          {m.nextTier ? (
            <dd>
              <span data-part="main">{m.nextTier.name}</span>{' '}
              <small className="sub" data-part="sub">
                {t('loyalty.member.missing', { missing: basis(m.nextTier.missing), tier: m.nextTier.name })}
              </small>
              <progress
                max={m.nextTier.threshold}
                value={m.tierBasisValue}
                aria-label={t('loyalty.member.progress', { tier: m.nextTier.name })}
                title={`${basis(m.tierBasisValue)} / ${basis(m.nextTier.threshold)}`}
                style={{ display: 'block', width: '100%' }}
              />
            </dd>
          ) : (
            <dd>
              <span data-part="main">{p.config.tiers.levels.length ? t('loyalty.member.topTier') : '—'}</span>
            </dd>
          )}
        </div>
      </dl>
      <p className="muted" data-testid="tier-basis">
        {p.config.tiers.basis === 'spend' ? t('loyalty.member.basisSpend') : t('loyalty.member.basisPoints')}
        {': '}
        {basis(m.tierBasisValue)}
      </p>

      <h2>{t('loyalty.member.expiring')}</h2>
      {m.expiringSoon.length === 0 ? (
        <p>{t('loyalty.member.expiringNone')}</p>
      ) : (
        <table className="data" data-testid="expiring">
          <caption className="sr-only">{t('loyalty.member.expiring')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('loyalty.member.expiresAt')}</th>
              <th scope="col">{t('loyalty.member.points')}</th>
            </tr>
          </thead>
          <tbody>
            {m.expiringSoon.map((e) => (
              <tr key={e.expiresAt}>
                <td>{f.day(e.expiresAt)}</td>
                <td className="num">{f.points(e.points)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {rights.write ? (
        <div className="columns">
          <RedeemForm customer={customer} program={p} currency={currency} onDone={refresh} />
          <AdjustForm customer={customer} onDone={refresh} />
          <section className="panel" aria-labelledby="card-title">
            <h2 id="card-title">{t('loyalty.member.cardLink.title')}</h2>
            <p className="muted">{t('loyalty.member.cardLink.help')}</p>
            <button type="button" disabled={cardLink.isPending} onClick={() => cardLink.mutate()}>
              {t('loyalty.member.cardLink.show')}
            </button>
            {cardLink.data ? (
              <p>
                <a href={cardLink.data.url} target="_blank" rel="noreferrer" data-testid="card-link">
                  {cardLink.data.url}
                </a>
              </p>
            ) : null}
            {cardLink.error ? <p role="alert">{cardLink.error.message}</p> : null}
          </section>
        </div>
      ) : null}

      <h2>{t('loyalty.member.redemptions')}</h2>
      {reverse.error ? <p role="alert">{reverse.error.message}</p> : null}
      {redemptions.data ? (
        redemptions.data.data.length === 0 ? (
          <p>{t('loyalty.member.redemptionsNone')}</p>
        ) : (
          <table className="data" data-testid="redemptions">
            <caption className="sr-only">{t('loyalty.member.redemptionsTable')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('loyalty.member.created')}</th>
                <th scope="col">{t('loyalty.member.kind')}</th>
                <th scope="col">{t('loyalty.member.points')}</th>
                <th scope="col">{t('loyalty.member.value')}</th>
                <th scope="col">{t('loyalty.member.codeOrOrder')}</th>
                <th scope="col">{t('loyalty.member.validUntil')}</th>
                <th scope="col">{t('loyalty.member.status')}</th>
                <th scope="col">
                  <span className="sr-only">{t('loyalty.member.reverse')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {redemptions.data.data.map((r) => (
                <tr key={r.id} data-redemption={r.id} data-status={r.status}>
                  <td>{f.when(r.createdAt)}</td>
                  <td>{t(`loyalty.member.kinds.${r.kind}`)}</td>
                  <td className="num">{f.points(r.points)}</td>
                  <td className="num">{f.money(r.valueMinor, r.currency)}</td>
                  <td className="id">{r.code ?? r.order ?? ''}</td>
                  <td>{r.expiresAt ? f.day(r.expiresAt) : '—'}</td>
                  <td>{t(`loyalty.member.statuses.${r.status}`)}</td>
                  <td>
                    {r.status === 'active' && rights.write ? (
                      <button
                        type="button"
                        className="secondary"
                        aria-label={t('loyalty.member.reverseLabel', { id: r.id })}
                        disabled={reverse.isPending}
                        onClick={() => {
                          if (
                            window.confirm(t('loyalty.member.confirmReverse', { points: f.points(r.points) }))
                          )
                            reverse.mutate(r.id);
                        }}
                      >
                        {t('loyalty.member.reverse')}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : (
        <Status query={redemptions} />
      )}

      <h2>{t('loyalty.member.ledger')}</h2>
      {ledger.data ? (
        <>
          <div className="table-wrap">
            <table className="data compact" data-testid="ledger">
              <caption className="sr-only">{t('loyalty.member.ledgerTable')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('loyalty.member.when')}</th>
                  <th scope="col">{t('loyalty.member.type')}</th>
                  <th scope="col">{t('loyalty.member.points')}</th>
                  <th scope="col">{t('loyalty.member.pendingDelta')}</th>
                  <th scope="col">{t('loyalty.member.availableDelta')}</th>
                  <th scope="col">{t('loyalty.member.order')}</th>
                  <th scope="col">{t('loyalty.member.reason')}</th>
                  <th scope="col">{t('loyalty.member.by')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.id} data-entry={e.id}>
                    <td>{f.when(e.occurredAt)}</td>
                    <td>{t(`loyalty.member.types.${e.type}`, { defaultValue: e.type })}</td>
                    <td className="num">{f.points(e.points)}</td>
                    <td className="num">{f.delta(e.pendingDelta)}</td>
                    <td className="num">{f.delta(e.availableDelta)}</td>
                    <td>{e.order ?? ''}</td>
                    <td>{e.reason ?? ''}</td>
                    <td>{e.createdBy ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {ledger.hasNextPage ? (
            <button
              type="button"
              onClick={() => void ledger.fetchNextPage()}
              disabled={ledger.isFetchingNextPage}
            >
              {t('loyalty.member.more')}
            </button>
          ) : null}
        </>
      ) : (
        <Status query={ledger} />
      )}

      <h2>{t('loyalty.member.tiers')}</h2>
      {tiers.data ? (
        tiers.data.data.length === 0 ? (
          <p>{t('loyalty.member.tiersNone')}</p>
        ) : (
          <table className="data" data-testid="tiers">
            <caption className="sr-only">{t('loyalty.member.tiersTable')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('loyalty.member.when')}</th>
                <th scope="col">{t('loyalty.member.from')}</th>
                <th scope="col">{t('loyalty.member.to')}</th>
                <th scope="col">{t('loyalty.member.basis')}</th>
                <th scope="col">{t('loyalty.member.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {tiers.data.data.map((c, i) => (
                <tr key={i}>
                  <td>{f.when(c.changedAt)}</td>
                  <td>{c.from ?? t('loyalty.member.noTier')}</td>
                  <td>{c.to ?? t('loyalty.member.noTier')}</td>
                  <td className="num">{basis(c.basisValue)}</td>
                  <td>{c.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : (
        <Status query={tiers} />
      )}
    </section>
  );
}

/**
 * Redeem points: one idempotency key per filled-in form. A second submit of the same form (a double
 * click, a retry after a timeout) sends the same key, so the API answers the first redemption and
 * spends nothing more; changing a field starts a new redemption (a new key).
 */
function RedeemForm({
  customer,
  program,
  currency,
  onDone,
}: {
  customer: string;
  program: Program;
  currency: string | null;
  onDone: () => Promise<void>;
}) {
  const { t, i18n } = useTranslation();
  const f = loyaltyFormat(i18n.language, useStoreZone());
  const [points, setPoints] = useState('');
  const [order, setOrder] = useState('');
  const [key, setKey] = useState(newKey);
  const redeem = useMutation({
    mutationFn: (body: { customer: string; points: number; idempotencyKey: string; order?: string }) =>
      api<{ redemption: Redemption; replayed: boolean }>('/v1/loyalty/redemptions', { method: 'POST', body }),
    onSettled: onDone,
  });
  const r = program.config.redemption;
  const res = redeem.data?.redemption;
  return (
    <form
      className="panel"
      aria-labelledby="redeem-title"
      data-testid="redeem-form"
      onSubmit={(e) => {
        e.preventDefault();
        redeem.mutate({
          customer,
          points: Number(points),
          idempotencyKey: key,
          ...(order.trim() ? { order: order.trim() } : {}),
        });
      }}
    >
      <h2 id="redeem-title">{t('loyalty.member.redeem.title')}</h2>
      <p>
        <label>
          {t('loyalty.member.redeem.points')}{' '}
          <input
            type="number"
            inputMode="numeric"
            required
            min={1}
            step={1}
            size={8}
            value={points}
            aria-describedby="redeem-limits"
            onChange={(e) => {
              setPoints(e.target.value);
              setKey(newKey());
            }}
          />
        </label>
      </p>
      <p className="muted" id="redeem-limits">
        {r.maxPoints === null
          ? t('loyalty.member.redeem.limits', { min: f.points(r.minPoints) })
          : t('loyalty.member.redeem.limitsMax', { min: f.points(r.minPoints), max: f.points(r.maxPoints) })}
      </p>
      <p>
        <label>
          {t('loyalty.member.redeem.order')}{' '}
          <input
            value={order}
            size={12}
            onChange={(e) => {
              setOrder(e.target.value);
              setKey(newKey());
            }}
          />
        </label>
      </p>
      <button type="submit" disabled={redeem.isPending}>
        {t('loyalty.member.redeem.submit')}
      </button>
      {res && !redeem.error ? (
        <p role="status" data-testid="redeem-result">
          {t('loyalty.member.redeem.done', {
            points: f.points(res.points),
            value: currency ? f.money(res.valueMinor, res.currency) : f.points(res.valueMinor),
          })}{' '}
          {res.code
            ? t('loyalty.member.redeem.code', {
                code: res.code,
                until: res.expiresAt ? f.day(res.expiresAt) : '—',
              })
            : t('loyalty.member.redeem.againstOrder', { order: res.order ?? '' })}
          {redeem.data?.replayed ? ` ${t('loyalty.member.redeem.replayed')}` : ''}
        </p>
      ) : null}
      {redeem.error ? (
        <p role="alert" data-testid="redeem-error">
          {redeem.error.message}
        </p>
      ) : null}
    </form>
  );
}

/** Add or take away points by hand with a reason; one idempotency key per filled-in form. */
function AdjustForm({ customer, onDone }: { customer: string; onDone: () => Promise<void> }) {
  const { t, i18n } = useTranslation();
  const f = loyaltyFormat(i18n.language, useStoreZone());
  const [points, setPoints] = useState('');
  const [reason, setReason] = useState('');
  const [key, setKey] = useState(newKey);
  const adjust = useMutation({
    mutationFn: (body: { customer: string; points: number; reason: string; idempotencyKey: string }) =>
      api<{ applied: boolean; member: Member }>('/v1/loyalty/adjustments', { method: 'POST', body }),
    onSettled: onDone,
  });
  return (
    <form
      className="panel"
      aria-labelledby="adjust-title"
      data-testid="adjust-form"
      onSubmit={(e) => {
        e.preventDefault();
        adjust.mutate({ customer, points: Number(points), reason: reason.trim(), idempotencyKey: key });
      }}
    >
      <h2 id="adjust-title">{t('loyalty.member.adjust.title')}</h2>
      <p>
        <label>
          {t('loyalty.member.adjust.points')}{' '}
          <input
            type="number"
            inputMode="numeric"
            required
            step={1}
            size={8}
            value={points}
            onChange={(e) => {
              setPoints(e.target.value);
              setKey(newKey());
            }}
          />
        </label>
      </p>
      <p>
        <label>
          {t('loyalty.member.adjust.reason')}{' '}
          <input
            required
            maxLength={200}
            value={reason}
            onChange={(e) => {
              setReason(e.target.value);
              setKey(newKey());
            }}
          />
        </label>
      </p>
      <button type="submit" disabled={adjust.isPending}>
        {t('loyalty.member.adjust.submit')}
      </button>
      {adjust.data && !adjust.error ? (
        <p role="status" data-testid="adjust-result">
          {adjust.data.applied
            ? t('loyalty.member.adjust.done', { available: f.points(adjust.data.member.available) })
            : t('loyalty.member.adjust.replayed')}
        </p>
      ) : null}
      {adjust.error ? (
        <p role="alert" data-testid="adjust-error">
          {adjust.error.message}
        </p>
      ) : null}
    </form>
  );
}
