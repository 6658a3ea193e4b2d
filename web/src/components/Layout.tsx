import { useQuery } from '@tanstack/react-query';
import { Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, NavLink, Outlet, useNavigate } from 'react-router';
import { api, ApiError, logOut, type Me } from '../api';
import { PAGES } from '../pages';
import { LANGUAGES, setLanguage, type Language } from '../i18n';
import { Status } from './Status';

/** The signed-in frame: navigation, language, log out; the login page when the session is gone. */
export function Layout() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  if (me.error instanceof ApiError && me.error.status === 401) return <Navigate to="/login" replace />;
  if (!me.data) return <Status query={me} />;
  return (
    <div className="frame">
      <header>
        <strong>{t('appName')}</strong>
        <nav aria-label="main">
          {PAGES.filter((p) => p.nav).map((p) => (
            <NavLink key={p.path} to={`/${p.path}`} end={p.path === ''}>
              {t(p.nav!)}
            </NavLink>
          ))}
        </nav>
        <span className="spacer" />
        <label>
          {t('nav.language')}{' '}
          <select value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)}>
            {LANGUAGES.map((l) => (
              <option key={l} value={l}>
                {l.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <span className="who">{me.data.name}</span>
        <button
          type="button"
          onClick={async () => {
            await logOut();
            navigate('/login');
          }}
        >
          {t('nav.logout')}
        </button>
      </header>
      <main>
        <Suspense
          fallback={
            <p role="status" aria-live="polite">
              {t('common.loading')}
            </p>
          }
        >
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
