import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { CELL, Field, fieldErrors, Forbidden, ROLES, SettingsNav, useStore, when } from './Settings';

export interface ApiKey {
  keyId: string;
  prefix: string;
  name: string;
  role: (typeof ROLES)[number];
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** API keys (admins only): create (the secret shown once), list, revoke after a confirmation. */
export function ApiKeysPage() {
  const { t } = useTranslation();
  const keys = useQuery({ queryKey: ['keys'], queryFn: () => api<{ data: ApiKey[] }>('/v1/keys') });
  const store = useStore();
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">{t('keys.title')}</h1>
      <SettingsNav />
      {keys.error instanceof ApiError && keys.error.status === 403 ? (
        <Forbidden error={keys.error} />
      ) : !keys.data || !store.data ? (
        <Status query={keys.data ? store : keys} />
      ) : (
        <>
          <p className="muted">{t('keys.intro')}</p>
          <CreateKey />
          <KeyTable keys={keys.data.data} timeZone={store.data.timeZone} />
        </>
      )}
    </section>
  );
}

function CreateKey() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<string>('analyst');
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const create = useMutation({
    mutationFn: () =>
      api<ApiKey & { key: string }>('/v1/keys', {
        method: 'POST',
        body: { role, ...(name.trim() ? { name } : {}) },
      }),
    onSuccess: () => {
      setName('');
      setCopied(null);
      return queries.invalidateQueries({ queryKey: ['keys'] });
    },
  });
  const secretRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (create.data) secretRef.current?.focus();
  }, [create.data]);
  const errors = fieldErrors(create.error);
  const secret = create.data;
  return (
    <>
      <form
        noValidate
        aria-labelledby="create-key-title"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        className="panel"
      >
        <h2 id="create-key-title" style={{ marginTop: 0 }}>
          {t('keys.create')}
        </h2>
        <Field id="key-name" label={t('keys.name')} help={t('keys.nameHelp')} error={errors.name}>
          {(aria) => (
            <input {...aria} value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <Field id="key-role" label={t('keys.role')} error={errors.role}>
          {(aria) => (
            <select {...aria} value={role} onChange={(e) => setRole(e.target.value)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {t(`roles.${r}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={create.isPending}>
          {t('keys.add')}
        </button>{' '}
        {create.isError && <span role="alert">{create.error.message}</span>}
      </form>
      {secret && (
        <div
          role="region"
          aria-labelledby="secret-title"
          data-testid="new-key"
          style={{
            background: '#fffbeb',
            border: '2px solid #b45309',
            borderRadius: 8,
            padding: '1rem',
            margin: '1rem 0',
            maxWidth: 720,
          }}
        >
          <h2 id="secret-title" style={{ marginTop: 0 }}>
            {t('keys.secretTitle', { name: secret.name })}
          </h2>
          <p id="secret-warning">
            <strong>⚠ {t('keys.secretWarning')}</strong>
          </p>
          <label htmlFor="secret">{t('keys.secretLabel')}</label>
          <div style={{ display: 'flex', gap: '0.5rem', alignItems: 'center' }}>
            <input
              id="secret"
              ref={secretRef}
              readOnly
              value={secret.key}
              aria-describedby="secret-warning"
              onFocus={(e) => e.target.select()}
              style={{ fontFamily: 'monospace', flex: 1 }}
            />
            <button
              type="button"
              onClick={() =>
                navigator.clipboard.writeText(secret.key).then(
                  () => setCopied('yes'),
                  () => setCopied('failed'),
                )
              }
            >
              {t('keys.copy')}
            </button>
          </div>
          <p aria-live="polite">
            {copied === 'yes' && t('keys.copied')}
            {copied === 'failed' && t('keys.copyFailed')}
          </p>
          <button type="button" onClick={() => create.reset()}>
            {t('keys.done')}
          </button>
        </div>
      )}
    </>
  );
}

function KeyTable({ keys, timeZone }: { keys: ApiKey[]; timeZone: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const queries = useQueryClient();
  const [confirming, setConfirming] = useState<string | null>(null);
  const revoke = useMutation({
    mutationFn: (keyId: string) => api(`/v1/keys/${encodeURIComponent(keyId)}`, { method: 'DELETE' }),
    onSuccess: () => {
      setConfirming(null);
      return queries.invalidateQueries({ queryKey: ['keys'] });
    },
  });
  if (keys.length === 0) return <p>{t('keys.empty')}</p>;
  const cell = CELL;
  return (
    <table style={{ borderCollapse: 'collapse', background: '#fff', marginTop: '1rem' }}>
      <caption style={{ textAlign: 'left', fontWeight: 600, padding: '0.4rem 0' }}>
        {t('keys.count', { count: keys.length })}
      </caption>
      <thead>
        <tr>
          <th scope="col" style={cell}>
            {t('keys.name')}
          </th>
          <th scope="col" style={cell}>
            {t('keys.prefix')}
          </th>
          <th scope="col" style={cell}>
            {t('users.role')}
          </th>
          <th scope="col" style={cell}>
            {t('keys.created')}
          </th>
          <th scope="col" style={cell}>
            {t('keys.lastUsed')}
          </th>
          <th scope="col" style={cell}>
            {t('keys.status')}
          </th>
          <th scope="col" style={cell}>
            {t('keys.actions')}
          </th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.keyId} data-key={k.keyId}>
            <th scope="row" style={cell}>
              {k.name}
            </th>
            <td style={cell}>
              <code>{k.prefix}…</code>
            </td>
            <td style={cell} data-col="role">
              {t(`roles.${k.role}`)}
            </td>
            <td style={cell} data-col="created">
              {when(lang, k.createdAt, timeZone)}
            </td>
            <td style={cell} data-col="lastUsed">
              {k.lastUsedAt ? when(lang, k.lastUsedAt, timeZone) : t('keys.never')}
            </td>
            <td style={cell} data-col="status">
              {k.revokedAt
                ? t('keys.revokedSince', { when: when(lang, k.revokedAt, timeZone) })
                : t('keys.active')}
            </td>
            <td style={cell}>
              {k.revokedAt ? null : confirming === k.keyId ? (
                <span role="group" aria-label={t('keys.revokeName', { name: k.name })}>
                  <span>{t('keys.confirm', { name: k.name })}</span>{' '}
                  <button
                    type="button"
                    autoFocus
                    onClick={() => revoke.mutate(k.keyId)}
                    disabled={revoke.isPending}
                  >
                    {t('keys.confirmYes')}
                  </button>{' '}
                  <button type="button" onClick={() => setConfirming(null)}>
                    {t('settings.cancel')}
                  </button>
                  {revoke.isError && <span role="alert"> {revoke.error.message}</span>}
                </span>
              ) : (
                <button
                  type="button"
                  aria-label={t('keys.revokeName', { name: k.name })}
                  onClick={() => setConfirming(k.keyId)}
                >
                  {t('keys.revoke')}
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
