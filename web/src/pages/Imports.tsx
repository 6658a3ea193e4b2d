import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api';
import { ImportPreview, type Preview } from '../components/ImportPreview';
import { ImportProgress, ImportReport, type ImportStatus } from '../components/ImportReport';
import { Status } from '../components/Status';
import { fmt } from '../format';

const ENTITIES = ['orders', 'customers', 'products', 'refunds', 'spend', 'events'] as const;
/** The start of the file the preview reads (gzip or not: the server decompresses what it can). */
const HEAD_BYTES = 64 << 10;

/** A POST of raw bytes (the file, or its start) with the session's CSRF token; errors as the API's. */
async function sendBytes<T>(path: string, body: Blob): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      accept: 'application/json',
      'content-type': 'application/octet-stream',
      'x-csrf-token': sessionStorage.getItem('retain.csrf') ?? '',
    },
    body,
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'error', e?.message ?? res.statusText);
  }
  return json as T;
}

/** The upload's query: the chosen preset, the file's name and the column overrides (`map`). */
function uploadQuery(file: File, preset: string, map: Record<string, string>, extra: string[] = []) {
  const q = new URLSearchParams({ filename: file.name });
  if (preset) q.set('preset', preset);
  for (const [from, to] of Object.entries(map)) q.append('map', `${from}=${to}`);
  for (const e of extra) q.set(e, 'true');
  return q.toString();
}

/**
 * Imports: choose a file and what it holds, see how the server will read it (preset, formats, each
 * column's field — changeable — and the first rows as stored), import it and follow its progress to the
 * report with its rejected rows; the latest uploads below.
 */
export function ImportsPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const queries = useQueryClient();
  const [entity, setEntity] = useState<(typeof ENTITIES)[number]>('orders');
  const [file, setFile] = useState<File | null>(null);
  const [preset, setPreset] = useState('');
  const [map, setMap] = useState<Record<string, string>>({});
  const [jobId, setJobId] = useState<number | null>(null);

  const preview = useQuery({
    queryKey: ['import-preview', entity, file?.name, file?.size, file?.lastModified, preset, map],
    queryFn: () =>
      sendBytes<Preview>(
        `/v1/imports/${entity}/preview?${uploadQuery(file!, preset, map, file!.size <= HEAD_BYTES ? ['complete'] : [])}`,
        file!.slice(0, HEAD_BYTES),
      ),
    enabled: file !== null,
    retry: false,
  });
  const upload = useMutation({
    mutationFn: () =>
      sendBytes<ImportStatus>(`/v1/imports/${entity}?${uploadQuery(file!, preset, map)}`, file!),
    onSuccess: (job) => {
      setJobId(job.importId);
      void queries.invalidateQueries({ queryKey: ['imports'] });
    },
  });
  const job = useQuery({
    queryKey: ['import', jobId],
    queryFn: () => api<ImportStatus>(`/v1/imports/${jobId}`),
    enabled: jobId !== null,
    refetchInterval: (q) => (q.state.data && ['done', 'dead'].includes(q.state.data.status) ? false : 500),
  });
  const recent = useQuery({
    queryKey: ['imports'],
    queryFn: () => api<{ imports: ImportStatus[] }>('/v1/imports?limit=20'),
  });
  const finished = job.data && ['done', 'dead'].includes(job.data.status);
  useEffect(() => {
    if (finished) void queries.invalidateQueries({ queryKey: ['imports'] });
    // A finished import changes every report.
    if (job.data?.status === 'done') void queries.invalidateQueries({ queryKey: ['summary'] });
  }, [finished, job.data?.status, queries]);

  const choose = (f: File | null) => {
    setFile(f);
    setMap({});
    setJobId(null);
    upload.reset();
  };
  const override = (column: string, target: string) => {
    const next = { ...map };
    if (target) next[column] = target;
    else delete next[column];
    setMap(next);
  };
  const canImport = preview.data && preview.data.preset !== null && !preview.data.error && !upload.isPending;

  return (
    <section aria-labelledby="imports-title">
      <h1 id="imports-title">{t('imports.title')}</h1>
      <h2>{t('imports.upload')}</h2>
      <div className="builder">
        <label>
          {t('imports.entity')}{' '}
          <select
            value={entity}
            onChange={(e) => {
              setEntity(e.target.value as (typeof ENTITIES)[number]);
              setPreset('');
              setMap({});
            }}
          >
            {ENTITIES.map((e) => (
              <option key={e} value={e}>
                {t(`imports.entities.${e}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('imports.file')}{' '}
          <input
            type="file"
            accept=".csv,.tsv,.txt,.ndjson,.jsonl,.gz"
            onChange={(e) => choose(e.target.files?.[0] ?? null)}
          />
        </label>
        <label>
          {t('imports.preset')}{' '}
          <select value={preset} onChange={(e) => setPreset(e.target.value)} disabled={!preview.data}>
            <option value="">{t('imports.detect')}</option>
            {(preview.data?.presets ?? []).map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      </div>
      {file && preview.isPending && (
        <p role="status" aria-live="polite">
          {t('imports.previewing')}
        </p>
      )}
      {preview.error && (
        <p role="alert" data-testid="preview-error">
          {preview.error.message}
        </p>
      )}
      {preview.data && <ImportPreview preview={preview.data} map={map} onMap={override} />}
      {file && (
        <p>
          <button type="button" disabled={!canImport || jobId !== null} onClick={() => upload.mutate()}>
            {upload.isPending ? t('imports.uploading') : t('imports.confirm')}
          </button>
        </p>
      )}
      {upload.error && <p role="alert">{upload.error.message}</p>}
      {jobId !== null && (
        <div>
          <h2>{t('imports.progressTitle', { id: jobId })}</h2>
          {job.data ? (
            <>
              <ImportProgress job={job.data} />
              <ImportReport job={job.data} />
            </>
          ) : (
            <Status query={job} />
          )}
        </div>
      )}
      <h2>{t('imports.recent')}</h2>
      {!recent.data ? (
        <Status query={recent} />
      ) : recent.data.imports.length === 0 ? (
        <p>{t('imports.noRecent')}</p>
      ) : (
        <div className="preview">
          <table data-testid="recent-imports">
            <caption className="sr-only">{t('imports.recent')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('imports.fileName')}</th>
                <th scope="col">{t('imports.entity')}</th>
                <th scope="col">{t('imports.created')}</th>
                <th scope="col">{t('imports.state')}</th>
                <th scope="col">{t('imports.figures.rows')}</th>
                <th scope="col">{t('imports.figures.inserted')}</th>
                <th scope="col">{t('imports.figures.rejected')}</th>
                <th scope="col">
                  <span className="sr-only">{t('imports.show')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {recent.data.imports.map((i) => (
                <tr key={i.importId} data-import={i.importId}>
                  <th scope="row">{i.file}</th>
                  <td>{t(`imports.entities.${i.entity}`)}</td>
                  <td>{new Date(i.createdAt).toLocaleString(lang)}</td>
                  <td>{t(`imports.states.${i.status}`)}</td>
                  <td>{i.report ? fmt.int(lang, i.report.rows) : '—'}</td>
                  <td>{i.report ? fmt.int(lang, i.report.inserted) : '—'}</td>
                  <td>{i.report ? fmt.int(lang, i.report.rejected) : '—'}</td>
                  <td>
                    <button type="button" onClick={() => setJobId(i.importId)}>
                      {t('imports.show')} {i.importId}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
