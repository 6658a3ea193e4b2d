import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';

interface Field {
  field: string;
  type: 'text' | 'number' | 'date' | 'flag';
  ops: string[];
  params: string[];
  values: string[] | null;
  doc: string;
}
interface Segment {
  name: string;
  description: string | null;
  builtin: boolean;
  rule: unknown;
}
interface Preview {
  count: number;
  customers: number;
  share: number | null;
  revenueMinor: number;
  revenueShare: number | null;
  currency: string | null;
  reachable: { email: number; sms: number; messenger: number; ads: number };
  sample: {
    id: string;
    email: string | null;
    orders: number;
    revenueMinor: number;
    rfmSegment: string | null;
  }[];
}
interface Row {
  field: string;
  op: string;
  value: string;
  param: string;
}

const NO_VALUE = new Set(['is_set', 'is_not_set', 'is_past', 'is_future', 'ever', 'never', 'did', 'did_not']);
const PARAM_KEY: Record<string, string> = {
  channel: 'channel',
  event: 'event',
  product: 'category',
  days: 'days',
};

/** A builder row → a rule condition (values typed by the field). */
function conditionOf(row: Row, f: Field | undefined): Record<string, unknown> {
  const c: Record<string, unknown> = { field: row.field, op: row.op };
  if (f && f.params.length > 0 && row.param.trim() !== '') {
    const key = PARAM_KEY[f.params[0]!]!;
    c[key] = key === 'days' ? Number(row.param) : row.param.trim();
  }
  if (!NO_VALUE.has(row.op)) {
    const raw = row.value.trim();
    if (row.op === 'in' || row.op === 'not_in')
      c.value = raw
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
    else if (row.op === 'between')
      c.value = raw.split(',').map((v) => (f?.type === 'number' ? Number(v) : v.trim()));
    else if (f?.type === 'number' || row.op.endsWith('_days')) c.value = raw === '' ? raw : Number(raw);
    else c.value = raw;
  }
  return c;
}

/** The segments: built-in and saved, and a builder whose count and preview follow each edit. */
export function SegmentsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const queries = useQueryClient();
  const fields = useQuery({
    queryKey: ['segment-fields'],
    queryFn: () => api<{ fields: Field[] }>('/v1/segments/fields'),
  });
  const list = useQuery({
    queryKey: ['segments'],
    queryFn: () => api<{ segments: Segment[] }>('/v1/segments'),
  });
  const [join, setJoin] = useState<'all' | 'any'>('all');
  const [rows, setRows] = useState<Row[]>([{ field: 'orders', op: 'gte', value: '2', param: '' }]);
  const [name, setName] = useState('');
  const byName = useMemo(() => new Map((fields.data?.fields ?? []).map((f) => [f.field, f])), [fields.data]);
  const rule = useMemo(
    () => ({ [join]: rows.map((r) => conditionOf(r, byName.get(r.field))) }),
    [join, rows, byName],
  );
  const ruleText = JSON.stringify(rule);
  const [debounced, setDebounced] = useState(ruleText);
  useEffect(() => {
    const id = setTimeout(() => setDebounced(ruleText), 300);
    return () => clearTimeout(id);
  }, [ruleText]);
  const preview = useQuery({
    queryKey: ['segment-preview', debounced],
    queryFn: () =>
      api<Preview>('/v1/segments/preview', { method: 'POST', body: { rule: JSON.parse(debounced) } }),
    enabled: fields.isSuccess,
  });
  const save = useMutation({
    mutationFn: () => api('/v1/segments', { method: 'POST', body: { name, rule } }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['segments'] }),
  });
  if (!fields.data || !list.data) return <Status query={fields.data ? list : fields} />;
  const setRow = (i: number, patch: Partial<Row>) =>
    setRows(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  const money = (minor: number) =>
    preview.data?.currency ? fmt.money(lang, minor / 100, preview.data.currency) : fmt.int(lang, minor);
  return (
    <section aria-labelledby="segments-title">
      <h1 id="segments-title">{t('segments.title')}</h1>
      <h2>{t('segments.builder')}</h2>
      <fieldset className="builder">
        <legend>
          <label>
            {t('segments.match')}{' '}
            <select value={join} onChange={(e) => setJoin(e.target.value as 'all' | 'any')}>
              <option value="all">{t('segments.all')}</option>
              <option value="any">{t('segments.any')}</option>
            </select>
          </label>
        </legend>
        {rows.map((row, i) => {
          const f = byName.get(row.field);
          return (
            <div className="rule-row" key={i} data-row={i}>
              <label>
                <span className="sr-only">{t('segments.field')}</span>
                <select
                  aria-label={`${t('segments.field')} ${i + 1}`}
                  value={row.field}
                  onChange={(e) => {
                    const nf = byName.get(e.target.value);
                    setRow(i, { field: e.target.value, op: nf?.ops[0] ?? 'eq', param: '' });
                  }}
                >
                  {fields.data.fields.map((x) => (
                    <option key={x.field} value={x.field} title={x.doc}>
                      {x.field}
                    </option>
                  ))}
                </select>
              </label>
              {f && f.params.length > 0 && (
                <input
                  aria-label={`${t('segments.param')} ${i + 1} (${f.params.join(', ')})`}
                  placeholder={f.params.map((p) => PARAM_KEY[p]).join(' / ')}
                  value={row.param}
                  onChange={(e) => setRow(i, { param: e.target.value })}
                />
              )}
              <select
                aria-label={`${t('segments.op')} ${i + 1}`}
                value={row.op}
                onChange={(e) => setRow(i, { op: e.target.value })}
              >
                {(f?.ops ?? []).map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
              {!NO_VALUE.has(row.op) && (
                <input
                  aria-label={`${t('segments.value')} ${i + 1}`}
                  list={f?.values ? `values-${row.field}` : undefined}
                  value={row.value}
                  onChange={(e) => setRow(i, { value: e.target.value })}
                />
              )}
              {f?.values && (
                <datalist id={`values-${row.field}`}>
                  {f.values.map((v) => (
                    <option key={v} value={v} />
                  ))}
                </datalist>
              )}
              <button
                type="button"
                onClick={() => setRows(rows.filter((_, k) => k !== i))}
                disabled={rows.length === 1}
              >
                {t('segments.remove')}
              </button>
            </div>
          );
        })}
        <button
          type="button"
          onClick={() => setRows([...rows, { field: 'country', op: 'eq', value: '', param: '' }])}
        >
          {t('segments.add')}
        </button>
      </fieldset>
      <div className="preview" aria-live="polite">
        {preview.error ? (
          <p role="alert">
            {preview.error instanceof ApiError ? preview.error.message : String(preview.error)}
          </p>
        ) : preview.data ? (
          <>
            <p data-testid="live-count">
              {t('segments.count', {
                count: preview.data.count,
                n: fmt.int(lang, preview.data.count),
                of: fmt.int(lang, preview.data.customers),
                share: preview.data.share === null ? '—' : fmt.pct(lang, preview.data.share),
              })}
              {' · '}
              {t('segments.revenue', {
                revenue: money(preview.data.revenueMinor),
                share: preview.data.revenueShare === null ? '—' : fmt.pct(lang, preview.data.revenueShare),
              })}
            </p>
            <p>
              {t('segments.reachable')}: email {fmt.int(lang, preview.data.reachable.email)}, SMS{' '}
              {fmt.int(lang, preview.data.reachable.sms)}, messenger{' '}
              {fmt.int(lang, preview.data.reachable.messenger)}, ads{' '}
              {fmt.int(lang, preview.data.reachable.ads)}
            </p>
            <table>
              <caption>{t('segments.sample')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('segments.customer')}</th>
                  <th scope="col">Email</th>
                  <th scope="col">{t('overview.orders')}</th>
                  <th scope="col">{t('overview.netRevenue')}</th>
                  <th scope="col">RFM</th>
                </tr>
              </thead>
              <tbody>
                {preview.data.sample.map((m) => (
                  <tr key={m.id}>
                    <td>{m.id}</td>
                    <td>{m.email ?? '—'}</td>
                    <td>{fmt.int(lang, m.orders)}</td>
                    <td>{money(m.revenueMinor)}</td>
                    <td>{m.rfmSegment ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <p role="status">{t('common.loading')}</p>
        )}
      </div>
      <form
        className="save"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <label>
          {t('segments.name')}{' '}
          <input
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            pattern="[a-z0-9][a-z0-9_\-]{0,79}"
          />
        </label>
        <button type="submit">{t('segments.save')}</button>
        {save.error && <span role="alert">{(save.error as Error).message}</span>}
        {save.isSuccess && <span role="status">{t('segments.saved')}</span>}
      </form>
      <h2>{t('segments.list')}</h2>
      <ul className="segment-list">
        {list.data.segments.map((s) => (
          <li key={s.name}>
            <strong>{s.name}</strong> {s.builtin ? `(${t('segments.builtin')})` : ''} — {s.description ?? ''}
          </li>
        ))}
      </ul>
    </section>
  );
}
