import { useTranslation } from 'react-i18next';
import { fmt } from '../format';

/** `GET /v1/imports/{id}` (src/modules/imports/routes.ts ImportStatus). */
export interface ImportStatus {
  importId: number;
  entity: string;
  file: string;
  status: 'queued' | 'running' | 'done' | 'dead';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
  report: ImportReportJson | null;
  progress: {
    phase: 'reading' | 'merging';
    rowsRead: number;
    bytesRead: number;
    bytesTotal: number;
    updatedAt: string;
  } | null;
}

export interface ImportReportJson {
  preset: string;
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  duplicates: number;
  guestOrders?: number;
  customersCreated?: number;
  skipped: Record<string, number>;
  errors?: { line: number; reason: string }[];
  errorsOmitted?: number;
}

export const FIGURES = [
  'rows',
  'inserted',
  'updated',
  'unchanged',
  'rejected',
  'duplicates',
  'guestOrders',
  'customersCreated',
] as const;

/** A running import's bar: bytes of the upload read, and the rows read so far. */
export function ImportProgress({ job }: { job: ImportStatus }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const p = job.progress;
  if (job.status === 'dead')
    return <p role="alert">{t('imports.failed', { message: job.lastError ?? '' })}</p>;
  if (job.status === 'done') return null;
  return (
    <div aria-live="polite" data-testid="import-progress">
      <progress
        aria-label={t('imports.progressLabel')}
        max={p?.bytesTotal || 1}
        value={p ? p.bytesRead : undefined}
        style={{ width: '100%' }}
      />
      <p role="status">
        {!p
          ? t('imports.queued')
          : p.phase === 'merging'
            ? t('imports.merging', { n: fmt.int(lang, p.rowsRead) })
            : t('imports.reading', { count: p.rowsRead, n: fmt.int(lang, p.rowsRead) })}
      </p>
    </div>
  );
}

/** A finished import's report: its counts, the rows the preset left out, and the rejected rows. */
export function ImportReport({ job }: { job: ImportStatus }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const r = job.report;
  if (!r) return null;
  const skipped = Object.entries(r.skipped);
  return (
    <div className="preview" data-testid="import-report">
      <h3>
        {t('imports.report')}: {job.file} ({r.preset})
      </h3>
      <dl className="cards">
        {FIGURES.filter((k) => r[k] !== undefined).map((k) => (
          <div className="card" key={k} data-figure={k}>
            <dt>{t(`imports.figures.${k}`)}</dt>
            <dd>{fmt.int(lang, r[k]!)}</dd>
          </div>
        ))}
      </dl>
      {skipped.length > 0 && (
        <table data-testid="import-skipped">
          <caption>{t('imports.skipped')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('imports.reason')}</th>
              <th scope="col">{t('imports.rows')}</th>
            </tr>
          </thead>
          <tbody>
            {skipped.map(([reason, n]) => (
              <tr key={reason}>
                <th scope="row">{reason}</th>
                <td>{fmt.int(lang, n)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.errors && r.errors.length > 0 ? (
        <table data-testid="import-rejected">
          <caption>{t('imports.rejectedRows')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('imports.line')}</th>
              <th scope="col">{t('imports.reason')}</th>
            </tr>
          </thead>
          <tbody>
            {r.errors.map((e, i) => (
              <tr key={`${e.line}-${i}`}>
                <th scope="row">{fmt.int(lang, e.line)}</th>
                <td>{e.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        r.rejected === 0 && <p>{t('imports.noRejected')}</p>
      )}
      {(r.errorsOmitted ?? 0) > 0 && (
        <p>{t('imports.rejectedOmitted', { count: r.errorsOmitted, n: fmt.int(lang, r.errorsOmitted!) })}</p>
      )}
    </div>
  );
}
