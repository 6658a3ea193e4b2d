import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';

/** `GET /v1/clv/predictions/{id}` (the job). */
interface PredictJob {
  jobId: number;
  status: 'queued' | 'running' | 'done' | 'dead';
  lastError: string | null;
}

/** The horizon a run started here predicts over (weeks), as the docs' demo run. */
export const RUN_HORIZON = 12;

/** The CLI command that makes the same run. */
export const clvCommand = (day: string) =>
  `retain clv predict --calibration-end ${day} --horizon ${RUN_HORIZON}`;

/** What a finished run changes: every query that shows predictions. */
const PREDICTION_QUERIES = ['customers', 'customer-scores', 'clv-summary', 'clv-predictions'];

/**
 * Starts a CLV run (`POST /v1/clv/predictions`, a background job) calibrated on the last order's day
 * (`GET /v1/reports/summary`), follows it, and refreshes what shows predictions when it is done; the
 * same run's CLI command beside it.
 */
export function ClvRun({ again = false }: { again?: boolean }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const summary = useQuery({
    queryKey: ['summary'],
    queryFn: () => api<{ asOf: string }>('/v1/reports/summary'),
  });
  const [jobId, setJobId] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const job = useQuery({
    queryKey: ['clv-job', jobId],
    queryFn: async () => {
      const j = await api<PredictJob>(`/v1/clv/predictions/${jobId}`);
      if (j.status === 'done')
        await Promise.all(PREDICTION_QUERIES.map((k) => queries.invalidateQueries({ queryKey: [k] })));
      return j;
    },
    enabled: jobId !== null,
    refetchInterval: (q) =>
      q.state.data?.status === 'done' || q.state.data?.status === 'dead' ? false : 1000,
  });
  const day = summary.data?.asOf;
  if (!day) return null;
  const busy = jobId !== null && job.data?.status !== 'done' && job.data?.status !== 'dead';
  const start = async () => {
    setError(null);
    try {
      const j = await api<PredictJob>('/v1/clv/predictions', {
        method: 'POST',
        body: { calibrationEnd: day, horizon: RUN_HORIZON },
      });
      setJobId(j.jobId);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <div className="clv-run">
      <button type="button" onClick={() => void start()} disabled={busy}>
        {t(again ? 'clvRun.again' : 'clvRun.start')}
      </button>
      <span aria-live="polite">
        {busy && <span role="status">{t('clvRun.running')}</span>}
        {job.data?.status === 'done' && <span role="status">{t('clvRun.done')}</span>}
      </span>
      {(error || job.data?.status === 'dead') && (
        <p role="alert">{t('clvRun.failed', { message: error ?? job.data?.lastError ?? '' })}</p>
      )}
      <p className="muted">
        {t('customers.orCli')} <code>{clvCommand(day)}</code>
      </p>
    </div>
  );
}
