import { useTranslation } from 'react-i18next';
import { fmt } from '../format';

/** `POST /v1/imports/{entity}/preview` (src/modules/imports/preview.ts). */
export interface Preview {
  entity: string;
  preset: string | null;
  presetDetected: boolean;
  presets: string[];
  error: string | null;
  format: {
    type: 'csv' | 'ndjson';
    encoding: { value: string; detected: boolean };
    delimiter: { value: string; detected: boolean } | null;
    decimal: { value: string; detected: boolean };
    dateFormat: { value: string; detected: boolean };
    timeZone: { value: string; from: string };
  };
  gzip: boolean;
  complete: boolean;
  columns: {
    column: string;
    field: string | null;
    mappedTo: string | null;
    how: 'exact' | 'renamed' | 'map' | 'preset' | 'ignored';
    why: string | null;
    didYouMean: string | null;
    samples: string[];
  }[];
  targets: string[];
  missing: string[];
  rowsRead: number;
  counts: { imported: number; rejected: number; skipped: number };
  sample: {
    line: number;
    outcome: 'imported' | 'rejected' | 'skipped';
    reason: string | null;
    rows: { entity: string; values: Record<string, string | number | boolean | null> }[];
    warnings: string[];
  }[];
}

/** The stored values of a sample row, without the bookkeeping column. */
function valuesText(values: Record<string, string | number | boolean | null>): string {
  return Object.entries(values)
    .filter(([k, v]) => k !== 'line' && v !== null && v !== '')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}

/**
 * How the server will read the file: formats, each column's field (with a choice to read it as another
 * field, passed as `map` on upload), required columns missing, and the first rows as they will be stored.
 */
export function ImportPreview({
  preview,
  map,
  onMap,
}: {
  preview: Preview;
  map: Record<string, string>;
  onMap: (column: string, target: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const f = preview.format;
  const how = (d: boolean) => (d ? t('imports.detected') : t('imports.given'));
  return (
    <div className="preview" data-testid="import-preview">
      <h2>{t('imports.previewTitle')}</h2>
      <p className="muted">{t('imports.headNote', { rows: fmt.int(lang, preview.rowsRead) })}</p>
      <dl className="cards">
        <div className="card">
          <dt>{t('imports.presetUsed')}</dt>
          <dd data-testid="preview-preset">{preview.preset ?? t('imports.none')}</dd>
        </div>
        <div className="card">
          <dt>{t('imports.encoding')}</dt>
          <dd>
            {f.encoding.value} <small>({how(f.encoding.detected)})</small>
          </dd>
        </div>
        {f.delimiter && (
          <div className="card">
            <dt>{t('imports.delimiter')}</dt>
            <dd>
              <code>{f.delimiter.value}</code> <small>({how(f.delimiter.detected)})</small>
            </dd>
          </div>
        )}
        <div className="card">
          <dt>{t('imports.decimal')}</dt>
          <dd>
            {f.decimal.value} <small>({how(f.decimal.detected)})</small>
          </dd>
        </div>
        <div className="card">
          <dt>{t('imports.dateFormat')}</dt>
          <dd>
            {f.dateFormat.value} <small>({how(f.dateFormat.detected)})</small>
          </dd>
        </div>
        <div className="card">
          <dt>{t('imports.timeZone')}</dt>
          <dd>{f.timeZone.value}</dd>
        </div>
      </dl>
      {preview.error && (
        <p role="alert" data-testid="preview-error">
          {preview.error}
        </p>
      )}
      {preview.missing.length > 0 && (
        <p role="alert">{t('imports.missing', { columns: preview.missing.join(', ') })}</p>
      )}
      <table data-testid="preview-columns">
        <caption>{t('imports.columns')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('imports.column')}</th>
            <th scope="col">{t('imports.samples')}</th>
            <th scope="col">{t('imports.field')}</th>
            <th scope="col">{t('imports.status')}</th>
          </tr>
        </thead>
        <tbody>
          {preview.columns.map((c) => (
            <tr key={c.column} data-column={c.column}>
              <th scope="row">{c.column}</th>
              <td>{c.samples.join(' · ')}</td>
              <td>
                <select
                  aria-label={`${t('imports.field')}: ${c.column}`}
                  value={map[c.column] ?? ''}
                  onChange={(e) => onMap(c.column, e.target.value)}
                >
                  <option value="">
                    {c.field ?? t('imports.how.ignored')} {t('imports.asDetected')}
                  </option>
                  {preview.targets.map((x) => (
                    <option key={x} value={x}>
                      {x}
                    </option>
                  ))}
                </select>
              </td>
              <td data-how={c.how}>
                {t(`imports.how.${c.how}`)}
                {c.field && c.how !== 'exact' ? ` → ${c.field}` : ''}
                {c.why ? ` (${c.why})` : ''}
                {c.didYouMean ? ` — ${t('imports.didYouMean', { field: c.didYouMean })}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {preview.preset && (
        <>
          <p data-testid="preview-counts">
            {t('imports.counts', {
              imported: fmt.int(lang, preview.counts.imported),
              rejected: fmt.int(lang, preview.counts.rejected),
              skipped: fmt.int(lang, preview.counts.skipped),
            })}
          </p>
          <table data-testid="preview-sample">
            <caption>{t('imports.sampleTitle')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('imports.line')}</th>
                <th scope="col">{t('imports.outcome')}</th>
                <th scope="col">{t('imports.values')}</th>
              </tr>
            </thead>
            <tbody>
              {preview.sample.map((s) => (
                <tr key={s.line}>
                  <th scope="row">{fmt.int(lang, s.line)}</th>
                  <td>{t(`imports.outcomes.${s.outcome}`)}</td>
                  <td>
                    {s.reason ?? s.rows.map((r) => `${r.entity}: ${valuesText(r.values)}`).join(' | ')}
                    {s.warnings.length > 0 ? ` (${s.warnings.join('; ')})` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
