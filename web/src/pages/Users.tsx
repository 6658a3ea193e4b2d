import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { CELL, Field, fieldErrors, Forbidden, ROLES, SettingsNav, useStore, when } from './Settings';

export interface User {
  email: string;
  role: (typeof ROLES)[number];
  createdAt: string;
  disabledAt: string | null;
}

const path = (email: string) => `/v1/users/${encodeURIComponent(email)}`;

/** Users of the dashboard (admins only): add with a role, change roles, disable/enable, reset passwords. */
export function UsersPage() {
  const { t } = useTranslation();
  const users = useQuery({ queryKey: ['users'], queryFn: () => api<{ data: User[] }>('/v1/users') });
  const store = useStore();
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">{t('users.title')}</h1>
      <SettingsNav />
      {users.error instanceof ApiError && users.error.status === 403 ? (
        <Forbidden error={users.error} />
      ) : !users.data || !store.data ? (
        <Status query={users.data ? store : users} />
      ) : (
        <>
          <p className="muted">{t('users.intro')}</p>
          <CreateUser />
          <UserTable users={users.data.data} timeZone={store.data.timeZone} />
        </>
      )}
    </section>
  );
}

function CreateUser() {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string>('analyst');
  const [password, setPassword] = useState('');
  const create = useMutation({
    mutationFn: () => api<User>('/v1/users', { method: 'POST', body: { email, role, password } }),
    onSuccess: () => {
      setEmail('');
      setPassword('');
      return queries.invalidateQueries({ queryKey: ['users'] });
    },
  });
  const errors = fieldErrors(create.error);
  return (
    <form
      noValidate
      aria-labelledby="create-user-title"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
      className="panel"
    >
      <h2 id="create-user-title" style={{ marginTop: 0 }}>
        {t('users.create')}
      </h2>
      <Field id="new-email" label={t('users.email')} error={errors.email}>
        {(aria) => (
          <input
            {...aria}
            type="email"
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        )}
      </Field>
      <Field id="new-role" label={t('users.role')} error={errors.role}>
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
      <Field
        id="new-password"
        label={t('users.password')}
        help={t('users.passwordHelp')}
        error={errors.password}
      >
        {(aria) => (
          <input
            {...aria}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
      </Field>
      <button type="submit" disabled={create.isPending}>
        {t('users.add')}
      </button>{' '}
      <span aria-live="polite">
        {create.isError && <span role="alert">{create.error.message}</span>}
        {create.isSuccess && <span role="status">{t('users.added', { email: create.data.email })}</span>}
      </span>
    </form>
  );
}

function UserTable({ users, timeZone }: { users: User[]; timeZone: string }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  if (users.length === 0) return <p>{t('users.empty')}</p>;
  return (
    <table style={{ borderCollapse: 'collapse', background: '#fff', marginTop: '1rem' }}>
      <caption style={{ textAlign: 'left', fontWeight: 600, padding: '0.4rem 0' }}>
        {t('users.count', { count: users.length })}
      </caption>
      <thead>
        <tr>
          <th scope="col" style={CELL}>
            {t('users.email')}
          </th>
          <th scope="col" style={CELL}>
            {t('users.role')}
          </th>
          <th scope="col" style={CELL}>
            {t('users.created')}
          </th>
          <th scope="col" style={CELL}>
            {t('users.status')}
          </th>
          <th scope="col" style={CELL}>
            {t('users.actions')}
          </th>
        </tr>
      </thead>
      <tbody>
        {users.map((u) => (
          <UserRow
            key={u.email}
            user={u}
            created={when(lang, u.createdAt, timeZone)}
            disabled={u.disabledAt && when(lang, u.disabledAt, timeZone)}
          />
        ))}
      </tbody>
    </table>
  );
}

function UserRow({ user, created, disabled }: { user: User; created: string; disabled: string | null }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState('');
  const done = () => queries.invalidateQueries({ queryKey: ['users'] });
  const change = useMutation({
    mutationFn: (body: { role?: string; password?: string }) =>
      api<User>(path(user.email), { method: 'PATCH', body }),
    onSuccess: (_u, body) => {
      if (body.password !== undefined) {
        setResetting(false);
        setPassword('');
      }
      return done();
    },
  });
  const toggle = useMutation({
    mutationFn: () =>
      api(`${path(user.email)}/${user.disabledAt ? 'enable' : 'disable'}`, { method: 'POST' }),
    onSuccess: done,
  });
  const error = change.error ?? toggle.error;
  const cell = CELL;
  const date = { ...CELL, whiteSpace: 'nowrap' } as const;
  return (
    <tr data-email={user.email}>
      <th scope="row" style={cell}>
        {user.email}
      </th>
      <td style={cell}>
        <select
          aria-label={t('users.roleOf', { email: user.email })}
          value={user.role}
          disabled={change.isPending}
          onChange={(e) => change.mutate({ role: e.target.value })}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`roles.${r}`)}
            </option>
          ))}
        </select>
      </td>
      <td style={date} data-col="created">
        {created}
      </td>
      <td style={cell} data-col="status">
        {disabled ? t('users.disabledSince', { when: disabled }) : t('users.active')}
      </td>
      <td style={cell}>
        <div style={{ display: 'flex', gap: '0.4rem', flexWrap: 'wrap', alignItems: 'center' }}>
          <button type="button" disabled={toggle.isPending} onClick={() => toggle.mutate()}>
            {user.disabledAt ? t('users.enable') : t('users.disable')}
            <span className="sr-only"> {user.email}</span>
          </button>
          {resetting ? (
            <form
              noValidate
              style={{ display: 'flex', gap: '0.4rem' }}
              onSubmit={(e) => {
                e.preventDefault();
                change.mutate({ password });
              }}
            >
              <input
                type="password"
                autoComplete="new-password"
                aria-label={t('users.newPasswordFor', { email: user.email })}
                value={password}
                autoFocus
                onChange={(e) => setPassword(e.target.value)}
              />
              <button type="submit">{t('users.setPassword')}</button>
              <button type="button" onClick={() => setResetting(false)}>
                {t('settings.cancel')}
              </button>
            </form>
          ) : (
            <button type="button" onClick={() => setResetting(true)}>
              {t('users.resetPassword')}
              <span className="sr-only"> {user.email}</span>
            </button>
          )}
          <span aria-live="polite">
            {error && <span role="alert">{error.message}</span>}
            {change.isSuccess && change.variables.password !== undefined && (
              <span role="status">{t('users.passwordSet', { email: user.email })}</span>
            )}
          </span>
        </div>
      </td>
    </tr>
  );
}
