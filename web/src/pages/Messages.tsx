import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';

export const SEND_STATUSES = ['queued', 'sending', 'sent', 'rejected', 'skipped', 'unknown'] as const;

/** A row of the send ledger (`GET /v1/messages`). */
export interface Send {
  key: string;
  customer: string;
  channel: string;
  source: string;
  template: string;
  templateVersion: number;
  status: (typeof SEND_STATUSES)[number];
  reason: string | null;
  address: string | null;
  createdAt: string;
  sentAt: string | null;
}

/**
 * The send ledger: counts by status, every send with its outcome (filter by status and source), and the
 * decision the operator owes for sends a crash left unknown (docs/messaging.md#exactly-once-and-the-crash-window).
 */
export function MessagesPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const client = useQueryClient();
  const [status, setStatus] = useState('');
  const [source, setSource] = useState('');
  const [sourceTyped, setSourceTyped] = useState('');
  const filter = new URLSearchParams({
    ...(status ? { status } : {}),
    ...(source ? { source } : {}),
  });
  const summary = useQuery({
    queryKey: ['messages-summary', source],
    queryFn: () =>
      api<{ counts: Record<string, number> }>(
        `/v1/messages/summary${source ? `?source=${encodeURIComponent(source)}` : ''}`,
      ),
  });
  const sends = useInfiniteQuery({
    queryKey: ['messages', status, source],
    initialPageParam: '',
    queryFn: ({ pageParam }) => {
      const q = new URLSearchParams(filter);
      q.set('limit', '50');
      if (pageParam) q.set('cursor', pageParam);
      return api<{ data: Send[]; nextCursor: string | null }>(`/v1/messages?${q.toString()}`);
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const resolve = useMutation({
    mutationFn: (action: 'resend' | 'drop') =>
      api<{ rows: number }>('/v1/messages/unknown', {
        method: 'POST',
        body: { action, ...(source ? { source } : {}) },
      }),
    onSuccess: () =>
      client.invalidateQueries({ predicate: (q) => String(q.queryKey[0]).startsWith('messages') }),
  });
  const when = (iso: string | null) =>
    iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
  const counts = summary.data?.counts;
  const unknown = counts?.unknown ?? 0;
  const rows = sends.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <section aria-labelledby="messages-title">
      <h1 id="messages-title">{t('messages.title')}</h1>
      <p>
        <Link to="/templates">{t('messages.toTemplates')}</Link>
      </p>
      {counts ? (
        <dl className="cards">
          {SEND_STATUSES.map((s) => (
            <div className="card" key={s} data-status={s}>
              <dt>{t(`messages.status.${s}`)}</dt>
              <dd>{fmt.int(lang, counts[s] ?? 0)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <Status query={summary} />
      )}
      {unknown > 0 ? (
        <div className="callout" role="region" aria-label={t('messages.unknownTitle')}>
          <h2>{t('messages.unknownTitle')}</h2>
          <p>{t('messages.unknownText', { count: unknown })}</p>
          <button
            type="button"
            onClick={() => {
              if (window.confirm(t('messages.confirmResend'))) resolve.mutate('resend');
            }}
          >
            {t('messages.resend')}
          </button>{' '}
          <button
            type="button"
            className="secondary"
            onClick={() => {
              if (window.confirm(t('messages.confirmDrop'))) resolve.mutate('drop');
            }}
          >
            {t('messages.drop')}
          </button>
          {resolve.error ? <p role="alert">{resolve.error.message}</p> : null}
        </div>
      ) : null}
      <form
        className="range"
        aria-label={t('messages.filters')}
        onSubmit={(e) => {
          e.preventDefault();
          setSource(sourceTyped.trim());
        }}
      >
        <label>
          {t('messages.statusLabel')}{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{t('messages.any')}</option>
            {SEND_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`messages.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('messages.source')}{' '}
          <input value={sourceTyped} placeholder="manual" onChange={(e) => setSourceTyped(e.target.value)} />
        </label>
        <button type="submit">{t('messages.apply')}</button>
      </form>
      {sends.data ? (
        rows.length === 0 ? (
          <p>{t('messages.empty')}</p>
        ) : (
          <>
            <table className="data" data-testid="sends">
              <caption className="sr-only">{t('messages.ledger')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('messages.customer')}</th>
                  <th scope="col">{t('messages.channel')}</th>
                  <th scope="col">{t('messages.template')}</th>
                  <th scope="col">{t('messages.source')}</th>
                  <th scope="col">{t('messages.statusLabel')}</th>
                  <th scope="col">{t('messages.reason')}</th>
                  <th scope="col">{t('messages.created')}</th>
                  <th scope="col">{t('messages.sent')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.key} data-key={r.key}>
                    <td>
                      <Link to={`/customers/${encodeURIComponent(r.customer)}`}>{r.customer}</Link>
                    </td>
                    <td>{r.channel}</td>
                    <td>
                      {r.template} v{r.templateVersion}
                    </td>
                    <td>{r.source}</td>
                    <td>{t(`messages.status.${r.status}`)}</td>
                    <td>{r.reason ?? ''}</td>
                    <td>{when(r.createdAt)}</td>
                    <td>{when(r.sentAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {sends.hasNextPage ? (
              <button
                type="button"
                onClick={() => void sends.fetchNextPage()}
                disabled={sends.isFetchingNextPage}
              >
                {t('messages.more')}
              </button>
            ) : null}
          </>
        )
      ) : (
        <Status query={sends} />
      )}
    </section>
  );
}
