import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink } from 'react-router';
import { api, ApiError, type Me } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';

export interface StoreSettings {
  name: string | null;
  currency: string | null;
  timeZone: string;
  locale: 'uk' | 'ru' | 'en';
  defaultMargin: number;
  defaultDiscountRate: number;
  nonProductSkus: string[];
  defaults: string[];
}

export const ROLES = ['admin', 'analyst', 'marketer', 'agent'] as const;
const LOCALES = ['uk', 'ru', 'en'] as const;

/** The signed-in user (the frame has already asked; this reads its cache). */
export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
}

/** The store settings (every role may read them). */
export function useStore() {
  return useQuery({ queryKey: ['store'], queryFn: () => api<StoreSettings>('/v1/store') });
}

/** A table cell's look on the settings pages. */
export const CELL = {
  padding: '0.35rem 0.6rem',
  borderTop: '1px solid #d9dde5',
  textAlign: 'left',
  verticalAlign: 'middle',
} as const;

/** A date and time from the API, in the UI language and the store's time zone. */
export function when(lang: string, iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(
    new Date(iso),
  );
}

/**
 * The API's complaints by field: `details.issues[{path, message}]` (validation; a nested path is kept
 * under its first part, with the rest in front of the message) or `details.field` (conflicts, not found).
 */
export function fieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  const d = err.details as { issues?: { path: string; message: string }[]; field?: string } | undefined;
  const out: Record<string, string> = {};
  for (const i of d?.issues ?? []) {
    const [head, ...rest] = i.path.split('.');
    if (!head || head in out) continue;
    out[head] = rest.length > 0 ? `${rest.join('.')}: ${i.message}` : i.message;
  }
  if (d?.field && !(d.field in out)) out[d.field] = err.message;
  return out;
}

/** The sub-navigation of the settings pages: users and keys only for admins. */
export function SettingsNav() {
  const { t } = useTranslation();
  const me = useMe();
  if (me.data?.role !== 'admin') return null;
  const style = ({ isActive }: { isActive: boolean }) =>
    isActive ? { fontWeight: 600, textDecoration: 'none', color: '#1d2330' } : { color: '#1d4ed8' };
  return (
    <nav aria-label={t('settings.sections')} className="subnav" style={{ display: 'flex', gap: '1rem' }}>
      <NavLink to="/settings" end style={style}>
        {t('settings.store')}
      </NavLink>
      <NavLink to="/settings/users" style={style}>
        {t('settings.users')}
      </NavLink>
      <NavLink to="/settings/keys" style={style}>
        {t('settings.keys')}
      </NavLink>
    </nav>
  );
}

/** A 403 from an admin-only route, in the API's words. */
export function Forbidden({ error }: { error: Error }) {
  const { t } = useTranslation();
  return <p role="alert">{t('settings.forbidden', { message: error.message })}</p>;
}

/** A labelled control with its help and the API's error for it (announced, and tied by aria). */
export function Field(props: {
  id: string;
  label: string;
  help?: string | undefined;
  error?: string | undefined;
  note?: ReactNode;
  children: (aria: { id: string; 'aria-describedby': string; 'aria-invalid': boolean }) => ReactNode;
}) {
  const described = [props.help ? `${props.id}-help` : '', props.error ? `${props.id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className="field" style={{ display: 'grid', gap: '0.25rem', marginBottom: '0.9rem' }}>
      <label htmlFor={props.id}>
        <strong>{props.label}</strong> {props.note}
      </label>
      {props.children({ id: props.id, 'aria-describedby': described, 'aria-invalid': !!props.error })}
      {props.help && (
        <small id={`${props.id}-help`} className="muted">
          {props.help}
        </small>
      )}
      {props.error && (
        <span
          id={`${props.id}-error`}
          className="field-error"
          data-error-for={props.id}
          style={{ color: '#b91c1c' }}
        >
          {props.error}
        </span>
      )}
    </div>
  );
}

/** The form's values as typed (numbers as text, so a bad one reaches the API and its message). */
interface Draft {
  name: string;
  currency: string;
  timeZone: string;
  locale: string;
  defaultMargin: string;
  defaultDiscountRate: string;
  nonProductSkus: string[];
}

const draftOf = (s: StoreSettings): Draft => ({
  name: s.name ?? '',
  currency: s.currency ?? '',
  timeZone: s.timeZone,
  locale: s.locale,
  defaultMargin: String(s.defaultMargin),
  defaultDiscountRate: String(s.defaultDiscountRate),
  nonProductSkus: s.nonProductSkus,
});

/** A number typed in the form: a number when it reads as one, else the text (the API names the error). */
const numberOf = (text: string): number | string => {
  const n = Number(text.trim().replace(',', '.'));
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
};

/** The store settings page: name, currency, time zone, language, CLV defaults and non-product SKUs. */
export function SettingsPage() {
  const { t } = useTranslation();
  const store = useStore();
  const me = useMe();
  if (!store.data || !me.data) return <Status query={store.data ? me : store} />;
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">{t('settings.title')}</h1>
      <SettingsNav />
      <p className="muted">{t('settings.intro')}</p>
      <StoreForm store={store.data} admin={me.data.role === 'admin'} />
    </section>
  );
}

/** The form starts from the stored values and shows the saved ones after each save. */
function StoreForm({ store, admin }: { store: StoreSettings; admin: boolean }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const queries = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => draftOf(store));
  const [newSku, setNewSku] = useState('');
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const zones = useMemo(() => {
    const all = Intl.supportedValuesOf('timeZone');
    return all.includes(store.timeZone) ? all : [store.timeZone, ...all];
  }, [store.timeZone]);
  const currencies = useMemo(() => Intl.supportedValuesOf('currency'), []);
  const languageName = useMemo(() => new Intl.DisplayNames([lang], { type: 'language' }), [lang]);
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {
        // An emptied name clears it (null); the API trims and checks the rest.
        name: draft.name.trim() === '' ? null : draft.name,
        timeZone: draft.timeZone,
        locale: draft.locale,
        defaultMargin: numberOf(draft.defaultMargin),
        defaultDiscountRate: numberOf(draft.defaultDiscountRate),
        nonProductSkus: draft.nonProductSkus,
      };
      if (draft.currency.trim() !== '' || store.currency !== null) body.currency = draft.currency;
      return api<StoreSettings>('/v1/store', { method: 'PATCH', body });
    },
    onSuccess: (saved) => {
      // The form shows what the API now holds (SKUs trimmed and without repeats, codes upper-cased).
      setDraft(draftOf(saved));
      queries.setQueryData(['store'], saved);
    },
  });
  const errors = fieldErrors(save.error);
  const dflt = (f: string) =>
    store.defaults.includes(f) ? <span className="muted">({t('settings.isDefault')})</span> : null;
  const pct = (text: string) => {
    const n = numberOf(text);
    return typeof n === 'number' ? <span className="muted">= {fmt.pct(lang, n)}</span> : null;
  };
  return (
    <form
      noValidate
      aria-label={t('settings.store')}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
      className="panel"
    >
      {!admin && <p role="note">{t('settings.adminOnly')}</p>}
      <fieldset disabled={!admin || save.isPending} style={{ border: 0, padding: 0, margin: 0 }}>
        <Field
          id="name"
          label={t('settings.name')}
          help={`${t('settings.nameHelp')}${store.name === null ? ` ${t('settings.nameUnset')}` : ''}`}
          error={errors.name}
        >
          {(aria) => (
            <input
              {...aria}
              name="name"
              autoComplete="organization"
              size={40}
              value={draft.name}
              onChange={(e) => set({ name: e.target.value })}
            />
          )}
        </Field>
        <Field
          id="currency"
          label={t('settings.currency')}
          help={`${t('settings.currencyHelp')}${store.currency === null ? ` ${t('settings.currencyUnset')}` : ''}`}
          error={errors.currency}
          note={dflt('currency')}
        >
          {(aria) => (
            <input
              {...aria}
              name="currency"
              list="currency-codes"
              autoComplete="off"
              size={6}
              value={draft.currency}
              onChange={(e) => set({ currency: e.target.value.toUpperCase() })}
            />
          )}
        </Field>
        <datalist id="currency-codes">
          {currencies.map((c) => (
            <option key={c} value={c} />
          ))}
        </datalist>
        <Field
          id="timeZone"
          label={t('settings.timeZone')}
          help={t('settings.timeZoneHelp')}
          error={errors.timeZone}
          note={dflt('timeZone')}
        >
          {(aria) => (
            <select
              {...aria}
              name="timeZone"
              value={draft.timeZone}
              onChange={(e) => set({ timeZone: e.target.value })}
            >
              {zones.map((z) => (
                <option key={z} value={z}>
                  {z.replaceAll('_', ' ')}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          id="locale"
          label={t('settings.locale')}
          help={t('settings.localeHelp')}
          error={errors.locale}
          note={dflt('locale')}
        >
          {(aria) => (
            <select
              {...aria}
              name="locale"
              value={draft.locale}
              onChange={(e) => set({ locale: e.target.value })}
            >
              {LOCALES.map((l) => (
                <option key={l} value={l}>
                  {languageName.of(l) ?? l} ({l})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          id="defaultMargin"
          label={t('settings.margin')}
          help={t('settings.marginHelp')}
          error={errors.defaultMargin}
          note={
            <>
              {dflt('defaultMargin')} {pct(draft.defaultMargin)}
            </>
          }
        >
          {(aria) => (
            <input
              {...aria}
              name="defaultMargin"
              inputMode="decimal"
              size={8}
              value={draft.defaultMargin}
              onChange={(e) => set({ defaultMargin: e.target.value })}
            />
          )}
        </Field>
        <Field
          id="defaultDiscountRate"
          label={t('settings.discountRate')}
          help={t('settings.discountRateHelp')}
          error={errors.defaultDiscountRate}
          note={
            <>
              {dflt('defaultDiscountRate')} {pct(draft.defaultDiscountRate)}
            </>
          }
        >
          {(aria) => (
            <input
              {...aria}
              name="defaultDiscountRate"
              inputMode="decimal"
              size={8}
              value={draft.defaultDiscountRate}
              onChange={(e) => set({ defaultDiscountRate: e.target.value })}
            />
          )}
        </Field>
        <fieldset
          aria-describedby={`skus-help${errors.nonProductSkus ? ' nonProductSkus-error' : ''}`}
          style={{ border: '1px solid #d9dde5', borderRadius: 6, marginBottom: '0.9rem' }}
        >
          <legend>
            <strong>{t('settings.skus')}</strong> {dflt('nonProductSkus')}
          </legend>
          <small id="skus-help" className="muted">
            {t('settings.skusHelp')}
          </small>
          {draft.nonProductSkus.length === 0 ? (
            <p>{t('settings.noSkus')}</p>
          ) : (
            <ul style={{ listStyle: 'none', padding: 0, display: 'grid', gap: '0.3rem' }}>
              {draft.nonProductSkus.map((sku, i) => (
                <li key={i} style={{ display: 'flex', gap: '0.5rem' }}>
                  <input
                    aria-label={t('settings.sku', { n: i + 1 })}
                    value={sku}
                    onChange={(e) =>
                      set({
                        nonProductSkus: draft.nonProductSkus.map((s, k) => (k === i ? e.target.value : s)),
                      })
                    }
                  />
                  <button
                    type="button"
                    onClick={() => set({ nonProductSkus: draft.nonProductSkus.filter((_, k) => k !== i) })}
                  >
                    {t('settings.removeSku', { n: i + 1 })}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div style={{ display: 'flex', gap: '0.5rem', marginTop: '0.4rem' }}>
            <input
              aria-label={t('settings.newSku')}
              placeholder={t('settings.newSku')}
              value={newSku}
              onChange={(e) => setNewSku(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  if (newSku.trim()) set({ nonProductSkus: [...draft.nonProductSkus, newSku.trim()] });
                  setNewSku('');
                }
              }}
            />
            <button
              type="button"
              onClick={() => {
                if (newSku.trim()) set({ nonProductSkus: [...draft.nonProductSkus, newSku.trim()] });
                setNewSku('');
              }}
            >
              {t('settings.addSku')}
            </button>
          </div>
          {errors.nonProductSkus && (
            <span id="nonProductSkus-error" data-error-for="nonProductSkus" style={{ color: '#b91c1c' }}>
              {errors.nonProductSkus}
            </span>
          )}
        </fieldset>
        <button type="submit">{save.isPending ? t('settings.saving') : t('settings.save')}</button>{' '}
        <span aria-live="polite">
          {save.isError && (
            <span role="alert" data-testid="save-error">
              {t('settings.failed', { message: save.error.message })}
            </span>
          )}
          {save.isSuccess && <span role="status">{t('settings.saved')}</span>}
        </span>
      </fieldset>
    </form>
  );
}
