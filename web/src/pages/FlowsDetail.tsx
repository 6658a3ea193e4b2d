import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, ApiError } from '../api';
import { DefinitionSection } from '../components/JsonEditor';
import { Status } from '../components/Status';
import { campaignFormat, useStoreInfo, type CampaignFormat } from './CampaignCommon';
import {
  byWhom,
  flowPath,
  FlowStatusBadge,
  useFlowWrite,
  type Flow,
  type FlowDetail,
  type Simulation,
} from './FlowsCommon';
import { FlowDefinitionView } from './FlowsDefinition';
import { FlowEditor } from './FlowsEditor';
import { FlowReportView } from './FlowsReport';

/** The queries that show a flow (refreshed after each action and save). */
const refresh = (queries: ReturnType<typeof useQueryClient>, name: string) =>
  Promise.all(
    [['flows'], ['flow', name], ['flow-simulate', name], ['flow-report', name]].map((queryKey) =>
      queries.invalidateQueries({ queryKey }),
    ),
  );

/**
 * One flow (`/flows/:name`): its status and the moves the role may make (activate, pause, archive —
 * each confirmed, a 409 shown as the API words it), the current version's definition in words, who would
 * enter it (the simulation), its report, the versions saved, and the editor saving the next version.
 */
export function FlowPage() {
  const name = useParams().name ?? '';
  return <FlowView key={name} name={name} />;
}

function FlowView({ name }: { name: string }) {
  const { t, i18n } = useTranslation();
  const store = useStoreInfo();
  const write = useFlowWrite();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const flow = useQuery({
    queryKey: ['flow', name],
    queryFn: () => api<FlowDetail>(flowPath(name)),
    // While customers go through it, the runs follow.
    refetchInterval: (q) => (q.state.data?.status === 'active' ? 10_000 : false),
  });
  const [saved, setSaved] = useState<number | null>(null);
  const x = flow.data;
  return (
    <section aria-labelledby="flow-title" className="campaign-page">
      <h1 id="flow-title">{t('flows.detail.title', { name })}</h1>
      <p>
        <Link to="/flows">{t('flows.back')}</Link>
      </p>
      {flow.error instanceof ApiError && flow.error.status === 404 ? (
        <p role="alert" data-testid="flow-missing">
          {flow.error.message}
        </p>
      ) : !x ? (
        <Status query={flow} />
      ) : (
        <>
          <p className="toolbar">
            <span>
              {t('flows.col.status')}: <FlowStatusBadge status={x.status} />
            </span>
          </p>
          {write ? <Actions flow={x} /> : null}
          <Facts flow={x} f={f} />
          <FlowDefinitionView definition={x.definition} version={x.version} />
          <SimulatePanel name={x.name} f={f} />
          <FlowReportView name={x.name} timeZone={store.timeZone} />
          <Versions flow={x} f={f} />
          <DefinitionSection
            write={write}
            id="flow"
            title={t('flows.editor.title')}
            note={
              <p className="callout" role="note" data-testid="in-flight-note">
                {t('flows.editor.inFlight')}
              </p>
            }
            saved={saved !== null ? t('flows.editor.saved', { version: saved }) : null}
            json={t('flows.def.json')}
            definition={x.definition}
          >
            <FlowEditor
              key={x.version}
              initial={JSON.stringify(x.definition, null, 2)}
              name={x.name}
              title={t('flows.editor.title')}
              label={t('flows.editor.label')}
              help={t('flows.editor.help', { next: x.version + 1 })}
              save={t('flows.editor.save')}
              onSaved={(saved) => setSaved(saved.version)}
            />
          </DefinitionSection>
        </>
      )}
    </section>
  );
}

const MOVES = {
  activate: { from: ['draft', 'paused'], confirm: 'confirmActivate' },
  pause: { from: ['active'], confirm: 'confirmPause' },
  archive: { from: ['draft', 'active', 'paused'], confirm: 'confirmArchive' },
} as const;
type Move = keyof typeof MOVES;

function Actions({ flow }: { flow: FlowDetail }) {
  const { t } = useTranslation();
  const queries = useQueryClient();
  const move = useMutation({
    mutationFn: (action: Move) => api<Flow>(`${flowPath(flow.name)}/${action}`, { method: 'POST' }),
    onSuccess: async (moved) => {
      queries.setQueryData<FlowDetail>(['flow', flow.name], (old) => (old ? { ...old, ...moved } : old));
      await refresh(queries, flow.name);
    },
    // A 409 (the flow moved meanwhile) is shown as the API words it; the page then shows where it is.
    onError: () => refresh(queries, flow.name),
  });
  const moves = (Object.keys(MOVES) as Move[]).filter((m) =>
    (MOVES[m].from as readonly string[]).includes(flow.status),
  );
  if (moves.length === 0 && !move.error) return null;
  return (
    <section className="actions" aria-labelledby="flow-actions-title">
      <h2 id="flow-actions-title" className="sr-only">
        {t('flows.actions.title')}
      </h2>
      <div className="toolbar">
        {moves.map((m) => (
          <button
            key={m}
            type="button"
            className={m === 'activate' ? undefined : m === 'archive' ? 'secondary danger' : 'secondary'}
            disabled={move.isPending}
            onClick={() => {
              if (
                window.confirm(
                  t(`flows.actions.${MOVES[m].confirm}`, { name: flow.name, version: flow.version }),
                )
              )
                move.mutate(m);
            }}
          >
            {t(`flows.actions.${m}`)}
          </button>
        ))}
      </div>
      <div aria-live="polite">
        {move.data && !move.error ? (
          <p role="status" data-testid="move-result">
            {t('flows.actions.moved', {
              name: move.data.name,
              status: t(`flows.status.${move.data.status}`),
            })}
          </p>
        ) : null}
      </div>
      {move.error ? (
        <p role="alert" className="field-error" data-testid="action-error">
          {move.error.message}
        </p>
      ) : null}
    </section>
  );
}

function Facts({ flow, f }: { flow: FlowDetail; f: CampaignFormat }) {
  const { t } = useTranslation();
  const facts: [string, string, string][] = [
    ['version', t('flows.detail.version'), f.int(flow.version)],
    ['created', t('flows.detail.created'), f.when(flow.createdAt)],
    ['updated', t('flows.detail.updated'), f.when(flow.updatedAt)],
    [
      'activated',
      t('flows.detail.activated'),
      flow.activatedAt ? f.when(flow.activatedAt) : t('flows.detail.never'),
    ],
    [
      'runs',
      t('flows.detail.runs'),
      t('flows.detail.runsText', {
        active: f.int(flow.runs.active),
        holdout: f.int(flow.runs.holdout),
        goal: f.int(flow.runs.goal),
        completed: f.int(flow.runs.completed),
      }),
    ],
  ];
  return (
    <section aria-labelledby="flow-facts-title">
      <h2 id="flow-facts-title" className="sr-only">
        {t('flows.detail.facts')}
      </h2>
      <dl className="facts" data-testid="flow-facts">
        {facts.map(([k, label, value]) => (
          <div key={k} data-fact={k}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

/** `GET /v1/flows/{name}/simulate?days=N`: who would have entered the newest version over the last days. */
function SimulatePanel({ name, f }: { name: string; f: CampaignFormat }) {
  const { t } = useTranslation();
  const [days, setDays] = useState('7');
  const [asked, setAsked] = useState<string | null>(null);
  const sim = useQuery({
    queryKey: ['flow-simulate', name, asked],
    queryFn: () => api<Simulation>(`${flowPath(name)}/simulate?days=${encodeURIComponent(asked ?? '')}`),
    enabled: asked !== null,
  });
  const s = sim.data;
  const error = sim.error?.message;
  const figures: [string, string, number][] = s
    ? [
        ['events', t('flows.simulate.events'), s.events],
        ['customers', t('flows.simulate.customers'), s.customers],
        ['would-enter', t('flows.simulate.wouldEnter'), s.wouldEnter],
        ['holdout', t('flows.simulate.holdout'), s.holdout],
        ['in-flight', t('flows.simulate.inFlight'), s.excluded.inFlight],
        ['reentry', t('flows.simulate.reentry'), s.excluded.reentry],
      ]
    : [];
  return (
    <section className="panel plan" aria-labelledby="simulate-title" data-testid="simulate">
      <h2 id="simulate-title">{t('flows.simulate.title')}</h2>
      <p className="muted">{t('flows.simulate.intro')}</p>
      <form
        className="field-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (asked === days) void sim.refetch();
          else setAsked(days);
        }}
      >
        <div className="cfield">
          <label htmlFor="simulate-days">{t('flows.simulate.days')}</label>
          <input
            id="simulate-days"
            className="short"
            type="number"
            min={1}
            max={90}
            step={1}
            value={days}
            aria-invalid={!!error}
            aria-describedby={error ? 'simulate-days-error' : undefined}
            onChange={(e) => setDays(e.target.value)}
          />
          {error ? (
            <span id="simulate-days-error" className="field-error" role="alert" data-error-for="days">
              {error}
            </span>
          ) : null}
        </div>
        <p className="save">
          <button type="submit" disabled={sim.isFetching}>
            {t('flows.simulate.run')}
          </button>
        </p>
      </form>
      <div aria-live="polite">
        {sim.isFetching ? <p role="status">{t('common.loading')}</p> : null}
        {s && !error ? (
          <div data-testid="simulation">
            <p className="muted" data-testid="simulation-over">
              {s.mode === 'now'
                ? t('flows.simulate.now', { version: f.int(s.version) })
                : t('flows.simulate.over', { version: f.int(s.version), days: f.int(s.days) })}
            </p>
            <dl className="cards">
              {figures.map(([k, label, n]) => (
                <div className="card" key={k} data-figure={k}>
                  <dt>{label}</dt>
                  <dd>{f.int(n)}</dd>
                </div>
              ))}
            </dl>
            <h3 id="sample-title">{t('flows.simulate.sample')}</h3>
            {s.sample.length ? (
              <ul className="sample" aria-labelledby="sample-title" data-testid="simulation-sample">
                {s.sample.map((id) => (
                  <li key={id}>
                    <Link to={`/customers/${encodeURIComponent(id)}`}>{id}</Link>
                  </li>
                ))}
              </ul>
            ) : (
              <p data-testid="simulation-sample-empty">{t('flows.simulate.noSample')}</p>
            )}
          </div>
        ) : null}
      </div>
    </section>
  );
}

function Versions({ flow, f }: { flow: FlowDetail; f: CampaignFormat }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">{t('flows.versions.title')}</h2>
      <p className="muted">{t('flows.versions.inFlight')}</p>
      <div className="table-wrap" role="region" aria-labelledby="versions-caption" tabIndex={0}>
        <table className="data" data-testid="versions">
          <caption id="versions-caption" className="sr-only">
            {t('flows.versions.title')}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t('flows.versions.version')}</th>
              <th scope="col">{t('flows.versions.created')}</th>
              <th scope="col">{t('flows.versions.by')}</th>
            </tr>
          </thead>
          <tbody>
            {[...flow.versions].reverse().map((v) => (
              <tr key={v.version} data-version={v.version}>
                <th scope="row">
                  {f.int(v.version)}
                  {v.version === flow.version ? ` (${t('flows.versions.current')})` : ''}
                </th>
                <td>{f.when(v.createdAt)}</td>
                <td>{byWhom(v.createdBy)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
