import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { loyaltyFormat, useLoyaltyRights, useProgram, useStoreZone, type Program } from './LoyaltyCommon';

/**
 * A starting programme: the example of docs/loyalty.md without a currency (the store's is used) and
 * starting today (orders imported before earn nothing).
 */
export function exampleProgram(today: Date): string {
  const startsAt = `${today.toISOString().slice(0, 10)}T00:00:00Z`;
  return JSON.stringify(
    {
      name: 'Rewards',
      startsAt,
      enrollment: 'automatic',
      earn: {
        rate: { type: 'per-unit', points: 1, perMinor: 100 },
        rounding: 'floor',
        multipliers: [],
      },
      pointValue: { points: 100, minor: 100 },
      pendingDays: 14,
      expiryDays: 180,
      overdraft: 'forgive',
      welcomeBonus: { points: 100, expiryDays: 30 },
      birthdayBonus: { points: 300, daysBefore: 7, daysAfter: 7, expiryDays: 30 },
      actions: { review: { points: 50, perMemberLimit: 10 } },
      redemption: { minPoints: 100, maxPoints: 10000, codeDays: 30, codePrefix: 'PTS' },
      tiers: {
        basis: 'spend',
        windowMonths: 12,
        downgradeGraceDays: 30,
        levels: [
          { name: 'Silver', threshold: 50000, multiplier: 1.25, discountPercent: 0 },
          { name: 'Gold', threshold: 200000, multiplier: 1.5, discountPercent: 5, freeShipping: true },
        ],
      },
      expiringNoticeDays: 14,
    },
    null,
    2,
  );
}

/** The API's issues of a 400 (`details.issues`: `{path, message}`). */
function issuesOf(e: unknown): { path: string; message: string }[] {
  if (!(e instanceof ApiError)) return [];
  const issues = (e.details as { issues?: unknown } | undefined)?.issues;
  return Array.isArray(issues) ? (issues as { path: string; message: string }[]) : [];
}

/**
 * The programme as JSON in a textarea, saved with `PUT /v1/loyalty/program` as the next version. A
 * refusal shows the API's message and every issue it names, as it words them.
 */
export function ProgramEditor({
  initial,
  onSaved,
  readOnly = false,
}: {
  initial: string;
  onSaved?: (p: Program) => void;
  /** Shown, not saved (a role that may not change the programme). */
  readOnly?: boolean;
}) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const [text, setText] = useState(initial);
  const [badJson, setBadJson] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (body: unknown) => api<Program>('/v1/loyalty/program', { method: 'PUT', body }),
    onSuccess: async (p) => {
      client.setQueryData(['loyalty-program'], p);
      await client.invalidateQueries({ predicate: (q) => String(q.queryKey[0]).startsWith('loyalty') });
      onSaved?.(p);
    },
  });
  const issues = issuesOf(save.error);
  return (
    <form
      className="builder"
      aria-label={t('loyalty.program.editor')}
      onSubmit={(e) => {
        e.preventDefault();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (err) {
          save.reset();
          setBadJson((err as Error).message);
          return;
        }
        setBadJson(null);
        save.mutate(body);
      }}
    >
      <label className="wide">
        {t('loyalty.program.json')}
        <textarea
          rows={24}
          value={text}
          spellCheck={false}
          onChange={(e) => setText(e.target.value)}
          readOnly={readOnly}
          aria-describedby="program-errors"
        />
      </label>
      <p hidden={readOnly}>
        <button type="submit" disabled={save.isPending}>
          {t('loyalty.program.save')}
        </button>{' '}
        {save.data && !save.error ? (
          <span role="status">{t('loyalty.program.saved', { version: save.data.version })}</span>
        ) : null}
      </p>
      <div id="program-errors">
        {badJson ? (
          <p role="alert" className="error">
            {t('loyalty.program.badJson', { message: badJson })}
          </p>
        ) : null}
        {save.error ? (
          <div role="alert">
            <p className="error" data-testid="program-error">
              {save.error.message}
            </p>
            {issues.length > 1 ? (
              <ul data-testid="program-issues">
                {issues.map((i, n) => (
                  <li key={n}>
                    {i.path ? <code>{i.path}</code> : null}
                    {i.path ? ': ' : ''}
                    {i.message}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
      </div>
    </form>
  );
}

/** `/loyalty/program`: the version in force, the editor on it, and the earlier versions. */
export function ProgramPage() {
  const { t, i18n } = useTranslation();
  const f = loyaltyFormat(i18n.language, useStoreZone());
  const program = useProgram();
  const rights = useLoyaltyRights();
  const versions = useQuery({
    queryKey: ['loyalty-program-versions'],
    queryFn: () => api<{ data: Program[] }>('/v1/loyalty/program/versions'),
  });
  // The version loaded into the editor (null: the one in force); the editor restarts on a change.
  const [loaded, setLoaded] = useState<Program | null>(null);
  // The editor restarts on the new version; what it saved is said here.
  const [saved, setSaved] = useState<number | null>(null);
  const none = program.error instanceof ApiError && program.error.status === 404;
  const current = program.data;
  const shown = loaded ?? current;
  return (
    <section aria-labelledby="program-title">
      <p>
        <Link to="/loyalty">← {t('loyalty.program.back')}</Link>
      </p>
      <h1 id="program-title">{t('loyalty.program.title')}</h1>
      {current ? (
        <p data-testid="program-version">
          {t('loyalty.program.current', { version: current.version, at: f.when(current.createdAt) })}
          {current.createdBy ? ` ${t('loyalty.program.by', { who: current.createdBy })}` : ''}
        </p>
      ) : none ? (
        <p>{t('loyalty.none.lead')}</p>
      ) : (
        <Status query={program} />
      )}
      {saved !== null ? (
        <p role="status" data-testid="program-saved">
          {t('loyalty.program.saved', { version: saved })}
        </p>
      ) : null}
      {shown || none ? (
        <ProgramEditor
          key={`${current?.version ?? 0}:${loaded?.version ?? ''}`}
          initial={shown ? JSON.stringify(shown.config, null, 2) : exampleProgram(new Date())}
          onSaved={(p) => {
            setLoaded(null);
            setSaved(p.version);
          }}
          readOnly={!rights.manage}
        />
      ) : null}
      {versions.data && versions.data.data.length > 0 ? (
        <>
          <h2>{t('loyalty.program.versions')}</h2>
          <table className="data" data-testid="program-versions">
            <caption className="sr-only">{t('loyalty.program.versions')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('loyalty.program.version')}</th>
                <th scope="col">{t('loyalty.program.savedAt')}</th>
                <th scope="col">{t('loyalty.program.savedBy')}</th>
                <th scope="col">
                  <span className="sr-only">{t('loyalty.program.editor')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.data.data.map((v) => (
                <tr key={v.version}>
                  <td className="num">{v.version}</td>
                  <td>{f.when(v.createdAt)}</td>
                  <td>{v.createdBy ?? '—'}</td>
                  <td>
                    <button type="button" className="link" onClick={() => setLoaded(v)}>
                      {t('loyalty.program.load', { version: v.version })}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
