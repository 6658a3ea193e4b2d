import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';

interface TemplateInfo {
  name: string;
  version: number;
  channel: 'email' | 'sms' | 'messenger';
  kind: 'marketing' | 'transactional';
  locales: string[];
  createdAt: string;
  createdBy: string | null;
}
interface Variant {
  locale: string;
  subject?: string;
  body: string;
  text?: string;
}
interface Source {
  name: string;
  channel: TemplateInfo['channel'];
  kind: TemplateInfo['kind'];
  variants: Variant[];
}
interface Rendered {
  locale: string;
  subject?: string;
  html?: string;
  text: string;
}

const STARTER: Source = {
  name: '',
  channel: 'email',
  kind: 'marketing',
  variants: [
    {
      locale: 'en',
      subject: 'Hello {{ customer.first_name | default: "there" }}',
      body: '<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n        <mj-text>Hello {{ customer.first_name | default: "there" }},</mj-text>\n        <mj-text font-size="12px"><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text>\n      </mj-column>\n    </mj-section>\n  </mj-body>\n</mjml>',
    },
  ],
};

/**
 * Message templates (docs/messaging.md#templates): the list (latest version of each), the editor (each
 * locale's subject, MJML or text body; saving makes a new version, errors name the variant, part, line
 * and column) and a preview rendered for a real customer.
 */
export function TemplatesPage() {
  const { t, i18n } = useTranslation();
  const client = useQueryClient();
  const [editing, setEditing] = useState<Source | null>(null);
  const [isNew, setIsNew] = useState(false);
  const [customer, setCustomer] = useState('');
  const [locale, setLocale] = useState('');
  const list = useQuery({
    queryKey: ['templates'],
    queryFn: () => api<{ data: TemplateInfo[] }>('/v1/templates'),
  });
  const open = useMutation({
    mutationFn: (name: string) =>
      api<Source & { source: Source }>(`/v1/templates/${encodeURIComponent(name)}`),
    onSuccess: (r) => {
      const src = r.source;
      setEditing({ name: r.name, channel: src.channel, kind: src.kind, variants: src.variants });
      setIsNew(false);
      preview.reset();
      save.reset();
    },
  });
  const save = useMutation({
    mutationFn: (s: Source) =>
      api<TemplateInfo>(`/v1/templates/${encodeURIComponent(s.name)}`, { method: 'PUT', body: s }),
    onSuccess: () => {
      setIsNew(false);
      return client.invalidateQueries({ queryKey: ['templates'] });
    },
  });
  const preview = useMutation({
    mutationFn: (s: Source) =>
      api<Rendered>(`/v1/templates/${encodeURIComponent(s.name)}/preview`, {
        method: 'POST',
        body: { customer, ...(locale ? { locale } : {}) },
      }),
  });
  const setVariant = (i: number, patch: Partial<Variant>) =>
    setEditing((e) =>
      e ? { ...e, variants: e.variants.map((v, j) => (j === i ? { ...v, ...patch } : v)) } : e,
    );
  const when = (iso: string) =>
    new Date(iso).toLocaleString(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <section aria-labelledby="templates-title">
      <h1 id="templates-title">{t('templates.title')}</h1>
      <p>
        <Link to="/messages">{t('templates.toMessages')}</Link>
      </p>
      {list.data ? (
        list.data.data.length === 0 ? (
          <p>{t('templates.empty')}</p>
        ) : (
          <table className="data" data-testid="templates">
            <caption className="sr-only">{t('templates.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('templates.name')}</th>
                <th scope="col">{t('templates.channel')}</th>
                <th scope="col">{t('templates.kind')}</th>
                <th scope="col">{t('templates.version')}</th>
                <th scope="col">{t('templates.locales')}</th>
                <th scope="col">{t('templates.saved')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((r) => (
                <tr key={r.name} data-template={r.name}>
                  <td>
                    <button type="button" className="link" onClick={() => open.mutate(r.name)}>
                      {r.name}
                    </button>
                  </td>
                  <td>{r.channel}</td>
                  <td>{t(`templates.kinds.${r.kind}`)}</td>
                  <td>{r.version}</td>
                  <td>{r.locales.join(', ')}</td>
                  <td>
                    {when(r.createdAt)}
                    {r.createdBy ? ` · ${r.createdBy}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : (
        <Status query={list} />
      )}
      <p>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setEditing(STARTER);
            setIsNew(true);
            preview.reset();
            save.reset();
          }}
        >
          {t('templates.new')}
        </button>
      </p>
      {open.error ? <p role="alert">{open.error.message}</p> : null}
      {editing ? (
        <form
          className="builder"
          aria-label={t('templates.editor')}
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate(editing);
          }}
        >
          <h2>{isNew ? t('templates.new') : editing.name}</h2>
          {isNew ? (
            <label>
              {t('templates.name')}{' '}
              <input
                value={editing.name}
                onChange={(e) => setEditing({ ...editing, name: e.target.value })}
                required
              />
            </label>
          ) : null}
          <div className="rule-row">
            <label>
              {t('templates.channel')}{' '}
              <select
                value={editing.channel}
                onChange={(e) => setEditing({ ...editing, channel: e.target.value as Source['channel'] })}
              >
                {['email', 'sms', 'messenger'].map((c) => (
                  <option key={c}>{c}</option>
                ))}
              </select>
            </label>
            <label>
              {t('templates.kind')}{' '}
              <select
                value={editing.kind}
                onChange={(e) => setEditing({ ...editing, kind: e.target.value as Source['kind'] })}
              >
                {(['marketing', 'transactional'] as const).map((k) => (
                  <option key={k} value={k}>
                    {t(`templates.kinds.${k}`)}
                  </option>
                ))}
              </select>
            </label>
          </div>
          {editing.variants.map((v, i) => (
            <fieldset key={i} className="variant">
              <legend>{t('templates.variant', { n: i + 1, locale: v.locale })}</legend>
              <label>
                {t('templates.locale')}{' '}
                <input
                  value={v.locale}
                  size={6}
                  onChange={(e) => setVariant(i, { locale: e.target.value })}
                />
              </label>
              {editing.channel === 'email' ? (
                <label className="wide">
                  {t('templates.subject')}
                  <input
                    value={v.subject ?? ''}
                    onChange={(e) => setVariant(i, { subject: e.target.value })}
                  />
                </label>
              ) : null}
              <label className="wide">
                {editing.channel === 'email' ? t('templates.bodyMjml') : t('templates.body')}
                <textarea
                  rows={editing.channel === 'email' ? 12 : 4}
                  value={v.body}
                  spellCheck={false}
                  onChange={(e) => setVariant(i, { body: e.target.value })}
                />
              </label>
              {editing.variants.length > 1 ? (
                <button
                  type="button"
                  className="secondary"
                  onClick={() =>
                    setEditing({ ...editing, variants: editing.variants.filter((_, j) => j !== i) })
                  }
                >
                  {t('templates.removeVariant')}
                </button>
              ) : null}
            </fieldset>
          ))}
          <p>
            <button
              type="button"
              className="secondary"
              onClick={() =>
                setEditing({
                  ...editing,
                  variants: [...editing.variants, { ...editing.variants[0]!, locale: '' }],
                })
              }
            >
              {t('templates.addVariant')}
            </button>
          </p>
          <p>
            <button type="submit" disabled={save.isPending}>
              {t('templates.save')}
            </button>{' '}
            {save.data ? (
              <span role="status">{t('templates.savedVersion', { version: save.data.version })}</span>
            ) : null}
          </p>
          {save.error ? (
            <p role="alert" className="error">
              {save.error.message}
            </p>
          ) : null}
          {!isNew ? (
            <div className="rule-row">
              <label>
                {t('templates.previewCustomer')}{' '}
                <input value={customer} onChange={(e) => setCustomer(e.target.value)} />
              </label>
              <label>
                {t('templates.previewLocale')}{' '}
                <input value={locale} size={6} onChange={(e) => setLocale(e.target.value)} />
              </label>
              <button
                type="button"
                disabled={!customer || preview.isPending}
                onClick={() => preview.mutate(editing)}
              >
                {t('templates.preview')}
              </button>
            </div>
          ) : null}
          {preview.error ? <p role="alert">{preview.error.message}</p> : null}
          {preview.data ? (
            <div className="rendered" data-testid="rendered">
              <p>
                <strong>{t('templates.locale')}:</strong> {preview.data.locale}
                {preview.data.subject !== undefined ? (
                  <>
                    {' · '}
                    <strong>{t('templates.subject')}:</strong>{' '}
                    <span data-part="subject">{preview.data.subject}</span>
                  </>
                ) : null}
              </p>
              {preview.data.html !== undefined ? (
                // The customer's message as it will look; sandboxed: no scripts, no same-origin access.
                <iframe title={t('templates.htmlPreview')} sandbox="" srcDoc={preview.data.html} />
              ) : null}
              <pre data-part="text">{preview.data.text}</pre>
            </div>
          ) : null}
        </form>
      ) : null}
    </section>
  );
}
