import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useTemplateNames } from './FlowsCommon';

/**
 * A flow version's definition in words (docs/flows.md): the trigger, the steps in order, the goal,
 * re-entry and the holdout. The definition is read defensively: a trigger or a step of a kind this page
 * does not know (a time trigger, a tag or points step…) is shown as its keys and values rather than
 * failing.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const SLOT = '\u0000';
/** A catalogue sentence with an element in the place of its one interpolated value (given as SLOT). */
function Sentence({ text, children }: { text: string; children: ReactNode }) {
  const [before, ...after] = text.split(SLOT);
  return (
    <>
      {before}
      {after.length ? (
        <>
          {children}
          {after.join('')}
        </>
      ) : null}
    </>
  );
}

/** A value as short text: strings as they are, anything else as compact JSON. */
export const plain = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** Every key of an object as `key: value` (for what the page has no words for). */
export function Generic({ value, skip = [] }: { value: unknown; skip?: string[] }) {
  if (!isObj(value)) return <code>{plain(value)}</code>;
  const entries = Object.entries(value).filter(([k]) => !skip.includes(k));
  if (entries.length === 0) return null;
  return (
    <span className="generic" data-part="generic">
      {entries.map(([k, v], i) => (
        <span key={k}>
          {i > 0 ? ', ' : ''}
          {k}: <code>{plain(v)}</code>
        </span>
      ))}
    </span>
  );
}

/** A segments rule (all / any / not over conditions) in one line: `consent[email] eq "granted"`. */
export function useRuleText() {
  const { t } = useTranslation();
  const text = (rule: unknown): string => {
    if (!isObj(rule)) return plain(rule);
    for (const group of ['all', 'any'] as const)
      if (Array.isArray(rule[group]) && Object.keys(rule).length === 1)
        return `${t(`flows.rule.${group}`)} (${(rule[group] as unknown[]).map(text).join('; ')})`;
    if ('not' in rule && Object.keys(rule).length === 1) return `${t('flows.rule.not')} (${text(rule.not)})`;
    if (typeof rule.field === 'string' && typeof rule.op === 'string') {
      const { field, op, value, ...params } = rule;
      const qualifiers = Object.values(params).map(plain);
      return [
        `${field}${qualifiers.length ? `[${qualifiers.join(', ')}]` : ''}`,
        op,
        ...(value !== undefined ? [JSON.stringify(value)] : []),
      ].join(' ');
    }
    return plain(rule);
  };
  return text;
}

/** An event match (trigger or goal): the event, its site event type or segment, and anything else. */
function EventText({ m }: { m: Obj }) {
  const { t } = useTranslation();
  const parts: ReactNode[] = [];
  if (typeof m.eventType === 'string') parts.push(t('flows.trigger.eventType', { type: m.eventType }));
  if (typeof m.segment === 'string') parts.push(t('flows.trigger.segment', { segment: m.segment }));
  if (isObj(m.where))
    parts.push(
      t('flows.trigger.where', {
        conditions: Object.entries(m.where)
          .map(([k, v]) => `${k} = ${JSON.stringify(v)}`)
          .join(', '),
      }),
    );
  return (
    <>
      <code>{plain(m.event)}</code>
      {parts.length ? ` (${parts.join(', ')})` : ''}
    </>
  );
}

function TriggerText({ trigger }: { trigger: unknown }) {
  const { t, i18n } = useTranslation();
  if (!isObj(trigger)) return <Generic value={trigger} />;
  const known = ['event', 'eventType', 'segment', 'where', 'time'];
  const rest = Object.keys(trigger).filter((k) => !known.includes(k));
  const time = trigger.time;
  const kind = isObj(time) && typeof time.kind === 'string' ? time.kind : null;
  return (
    <div data-part="trigger">
      {typeof trigger.event === 'string' ? (
        <div data-trigger="event">
          <Sentence text={t('flows.trigger.event', { event: SLOT })}>
            <EventText m={trigger} />
          </Sentence>
        </div>
      ) : null}
      {time !== undefined ? (
        <div data-trigger="time">
          {t('flows.trigger.time', {
            kind:
              kind && i18n.exists(`flows.trigger.timeKinds.${kind}`)
                ? t(`flows.trigger.timeKinds.${kind}`)
                : (kind ?? ''),
          })}
          {isObj(time) && Object.keys(time).some((k) => k !== 'kind') ? (
            <>
              {' '}
              (<Generic value={time} skip={['kind']} />)
            </>
          ) : !isObj(time) ? (
            <>
              {' '}
              <Generic value={time} />
            </>
          ) : null}
        </div>
      ) : null}
      {rest.length ? (
        <div data-trigger="other">
          {t('flows.trigger.other')}: <Generic value={trigger} skip={known} />
        </div>
      ) : null}
    </div>
  );
}

/** A wait as "1 day 2 hours". */
function useDuration() {
  const { t } = useTranslation();
  return (d: unknown): ReactNode => {
    if (!isObj(d)) return <Generic value={d} />;
    const parts = (['days', 'hours', 'minutes'] as const)
      .filter((k) => typeof d[k] === 'number' && (d[k] as number) > 0)
      .map((k) => t(`flows.dur.${k}`, { count: d[k] as number }));
    const rest = Object.keys(d).filter((k) => !['days', 'hours', 'minutes'].includes(k));
    return (
      <>
        {parts.join(' ')}
        {rest.length ? (
          <>
            {' '}
            (<Generic value={d} skip={['days', 'hours', 'minutes']} />)
          </>
        ) : null}
      </>
    );
  };
}

/** A branch's target: a later step (a link to it in the list) or the exit. */
function Target({ to }: { to: unknown }) {
  const { t } = useTranslation();
  if (to === 'exit') return <>{t('flows.step.toExit')}</>;
  if (typeof to !== 'string') return <code>{plain(to)}</code>;
  return (
    <a href={`#flow-step-${to}`}>
      <code>{to}</code>
    </a>
  );
}

function StepText({ step, templates }: { step: unknown; templates: Set<string> | null }) {
  const { t } = useTranslation();
  const duration = useDuration();
  const ruleText = useRuleText();
  if (!isObj(step)) return <Generic value={step} />;
  const kinds = Object.keys(step).filter((k) => k !== 'id');
  const kind = kinds.length === 1 ? kinds[0]! : null;
  const body = kind ? step[kind] : undefined;
  if (kind === 'wait')
    return <Sentence text={t('flows.step.wait', { duration: SLOT })}>{duration(body)}</Sentence>;
  if (kind === 'waitUntil' && isObj(body) && typeof body.localTime === 'string')
    return <>{t('flows.step.waitUntil', { time: body.localTime })}</>;
  if (kind === 'send' && isObj(body) && typeof body.template === 'string') {
    const name = body.template;
    const rest = Object.keys(body).filter((k) => k !== 'template');
    return (
      <>
        {t('flows.step.send')}{' '}
        {templates?.has(name) ? (
          <Link to="/templates" data-template={name}>
            {name}
          </Link>
        ) : (
          <>
            <code>{name}</code>
            {templates ? <span className="muted"> {t('flows.step.noTemplate')}</span> : null}
          </>
        )}
        {rest.length ? (
          <>
            {' '}
            (<Generic value={body} skip={['template']} />)
          </>
        ) : null}
      </>
    );
  }
  if (kind === 'survey' && isObj(body) && typeof body.name === 'string') {
    const name = body.name;
    return (
      <>
        <Sentence text={t('flows.step.survey', { survey: SLOT })}>
          <Link to={`/surveys/${encodeURIComponent(name)}`} data-survey={name}>
            {name}
          </Link>
        </Sentence>
        {Object.keys(body).some((k) => k !== 'name') ? (
          <>
            {' '}
            (<Generic value={body} skip={['name']} />)
          </>
        ) : null}
      </>
    );
  }
  if (kind === 'branch' && isObj(body) && 'if' in body)
    return (
      <>
        <Sentence text={t('flows.step.branch', { rule: SLOT })}>
          <code data-part="rule">{ruleText(body.if)}</code>
        </Sentence>{' '}
        <Sentence text={t('flows.step.then', { target: SLOT })}>
          <Target to={body.then} />
        </Sentence>
        ;{' '}
        <Sentence text={t('flows.step.else', { target: SLOT })}>
          <Target to={body.else} />
        </Sentence>
      </>
    );
  if (kind === 'exit') return <>{t('flows.step.exit')}</>;
  // A kind the page has no words for (tag, points, task…): its name and what it holds.
  return kind ? (
    <>
      {t('flows.step.other', { kind })}: <Generic value={body} />
    </>
  ) : (
    <>
      {t('flows.step.unknown')}: <Generic value={step} skip={['id']} />
    </>
  );
}

function ReentryText({ reentry }: { reentry: unknown }) {
  const { t } = useTranslation();
  if (isObj(reentry)) {
    if (reentry.kind === 'once' || reentry.kind === 'always')
      return <>{t(`flows.reentryText.${reentry.kind}`)}</>;
    if (reentry.kind === 'after' && typeof reentry.days === 'number')
      return <>{t('flows.reentryText.after', { count: reentry.days })}</>;
  }
  return <Generic value={reentry} />;
}

export function FlowDefinitionView({ definition, version }: { definition: unknown; version: number }) {
  const { t, i18n } = useTranslation();
  const templates = useTemplateNames();
  const d = isObj(definition) ? definition : {};
  const steps = Array.isArray(d.steps) ? d.steps : [];
  const share = (x: number) =>
    new Intl.NumberFormat(i18n.language, { style: 'percent', maximumFractionDigits: 1 }).format(x);
  const known = ['name', 'description', 'trigger', 'steps', 'goal', 'reentry', 'holdoutShare'];
  const other = Object.keys(d).filter((k) => !known.includes(k));
  return (
    <section aria-labelledby="definition-title" data-testid="definition">
      <h2 id="definition-title">{t('flows.def.title', { version })}</h2>
      <dl className="facts">
        {typeof d.description === 'string' ? (
          <div data-fact="description">
            <dt>{t('flows.def.description')}</dt>
            <dd>{d.description}</dd>
          </div>
        ) : null}
        <div data-fact="trigger">
          <dt>{t('flows.def.trigger')}</dt>
          <dd>
            <TriggerText trigger={d.trigger} />
          </dd>
        </div>
        <div data-fact="goal">
          <dt>{t('flows.def.goal')}</dt>
          <dd>
            {isObj(d.goal) ? (
              <Sentence text={t('flows.def.goalText', { event: SLOT })}>
                <EventText m={d.goal} />
              </Sentence>
            ) : d.goal === undefined ? (
              t('flows.def.noGoal')
            ) : (
              <Generic value={d.goal} />
            )}
          </dd>
        </div>
        <div data-fact="reentry">
          <dt>{t('flows.def.reentry')}</dt>
          <dd>
            <ReentryText reentry={d.reentry} />
          </dd>
        </div>
        <div data-fact="holdout">
          <dt>{t('flows.def.holdout')}</dt>
          <dd>
            {typeof d.holdoutShare === 'number' ? (
              t('flows.def.holdoutText', { share: share(d.holdoutShare) })
            ) : (
              <Generic value={d.holdoutShare ?? null} />
            )}
          </dd>
        </div>
        {other.map((k) => (
          <div key={k} data-fact={k}>
            <dt>{k}</dt>
            <dd>
              <Generic value={d[k]} />
            </dd>
          </div>
        ))}
      </dl>
      <h3 id="steps-title">{t('flows.def.steps')}</h3>
      <ol className="flow-steps" aria-labelledby="steps-title" data-testid="steps">
        {steps.map((s, i) => {
          const id = isObj(s) && typeof s.id === 'string' ? s.id : String(i + 1);
          return (
            <li key={`${id}-${i}`} id={`flow-step-${id}`} data-step={id}>
              <code className="step-id">{id}</code> <StepText step={s} templates={templates} />
            </li>
          );
        })}
      </ol>
    </section>
  );
}
