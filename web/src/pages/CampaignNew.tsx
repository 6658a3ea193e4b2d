import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import { fmt } from '../format';
import {
  CampaignField,
  errorsByPath,
  FieldError,
  fieldId,
  instantOf,
  placeErrors,
  useCampaignWrite,
  useStoreInfo,
  digitsOf,
  type Campaign,
} from './CampaignCommon';

interface TemplateInfo {
  name: string;
  channel: string;
  kind: string;
}
interface SegmentInfo {
  name: string;
  builtin: boolean;
  description: string | null;
}

/** A variant as typed (numbers as text, so a bad one reaches the API and its message). */
interface VariantDraft {
  key: string;
  template: string;
  /** Percent of the audience. */
  share: string;
  offer: boolean;
  kind: 'percent' | 'amount';
  /** Percent off, or the amount off in the currency's major units. */
  value: string;
  codes: 'generate' | 'list';
  prefix: string;
  expiry: 'days' | 'date';
  validDays: string;
  /** YYYY-MM-DD: the codes expire at the end of that day, store time. */
  expiresOn: string;
}
interface Draft {
  name: string;
  audience: 'segment' | 'rule';
  segment: string;
  rule: string;
  variants: VariantDraft[];
  holdout: string;
  windowDays: string;
  clickWindowDays: string;
  when: 'launch' | 'at' | 'local';
  at: string;
  local: string;
  stop: 'fixed' | 'sequential';
  minRecipients: string;
}

const KEYS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
const EXAMPLE_RULE = JSON.stringify(
  { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
  null,
  2,
);

const variantDraft = (key: string, template: string, share: string): VariantDraft => ({
  key,
  template,
  share,
  offer: false,
  kind: 'percent',
  value: '10',
  codes: 'generate',
  prefix: '',
  expiry: 'days',
  validDays: '14',
  expiresOn: '',
});

/** A number typed in the form: a number when it reads as one, else the text (the API names the error). */
const numberOf = (text: string): number | string => {
  const n = Number(text.trim().replace(',', '.'));
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
};
/** A percentage typed (45) as the API's share (0.45). */
const shareOf = (text: string): number | string => {
  const n = numberOf(text);
  return typeof n === 'number' ? Number((n / 100).toPrecision(12)) : n;
};

/** The form's paths the API's errors are shown at (the rest go under the form). */
function fieldPaths(variants: number): string[] {
  const out = [
    'name',
    'segment',
    'rule',
    'variants',
    'holdoutShare',
    'windowDays',
    'clickWindowDays',
    'schedule',
    'stop',
    'stop.minRecipients',
  ];
  for (let i = 0; i < variants; i++)
    for (const p of [
      '',
      '.key',
      '.template',
      '.share',
      '.offer',
      '.offer.kind',
      '.offer.value',
      '.offer.codes',
      '.offer.prefix',
      '.offer.expiresAt',
      '.offer.validDays',
    ])
      out.push(`variants.${i}${p}`);
  return out;
}

/**
 * A new campaign (`POST /v1/campaigns`): name, audience (a segment, or a rule as JSON), the variants
 * (key, template, share, an optional offer), the holdout, the outcome and click windows, when it sends
 * and how it may stop. Saved as a draft; its page then shows what the send can detect (the plan).
 */
export function CampaignNewPage() {
  const { t } = useTranslation();
  const write = useCampaignWrite();
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<{ role: string }>('/v1/session') });
  return (
    <section aria-labelledby="campaign-new-title" className="campaign-page">
      <h1 id="campaign-new-title">{t('campaigns.form.title')}</h1>
      <p>
        <Link to="/campaigns">{t('campaigns.back')}</Link>
      </p>
      {!me.data ? (
        <Status query={me} />
      ) : write ? (
        <CampaignForm />
      ) : (
        <p role="note" data-testid="no-rights">
          {t('campaigns.noRights')}
        </p>
      )}
    </section>
  );
}

function CampaignForm() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  const queries = useQueryClient();
  const store = useStoreInfo();
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: () => api<{ data: TemplateInfo[] }>('/v1/templates'),
  });
  const segments = useQuery({
    queryKey: ['segments'],
    queryFn: () => api<{ segments: SegmentInfo[] }>('/v1/segments'),
  });
  const [draft, setDraft] = useState<Draft | null>(null);
  const [ruleError, setRuleError] = useState<string | null>(null);
  const formRef = useRef<HTMLFormElement>(null);
  // The first template and segment (a saved one when there is one) once they are known.
  useEffect(() => {
    if (draft || !templates.data || !segments.data) return;
    const first = templates.data.data[0]?.name ?? '';
    const saved = segments.data.segments.find((s) => !s.builtin) ?? segments.data.segments[0];
    setDraft({
      name: '',
      audience: 'segment',
      segment: saved?.name ?? '',
      rule: EXAMPLE_RULE,
      variants: [variantDraft('A', first, '45'), variantDraft('B', first, '45')],
      holdout: '10',
      windowDays: '30',
      clickWindowDays: '5',
      when: 'launch',
      at: '',
      local: '',
      stop: 'fixed',
      minRecipients: '100',
    });
  }, [draft, templates.data, segments.data]);

  const digits = store.currency ? digitsOf(store.currency) : 0;
  const bodyOf = (d: Draft, rule: unknown): Record<string, unknown> => ({
    name: d.name.trim(),
    ...(d.audience === 'segment' ? { segment: d.segment } : { rule }),
    variants: d.variants.map((v) => {
      const value = numberOf(v.value);
      return {
        key: v.key,
        template: v.template,
        share: shareOf(v.share),
        ...(v.offer
          ? {
              offer: {
                kind: v.kind,
                value:
                  v.kind === 'amount' && typeof value === 'number' ? Math.round(value * 10 ** digits) : value,
                codes: v.codes,
                ...(v.codes === 'generate' && v.prefix.trim() ? { prefix: v.prefix.trim() } : {}),
                ...(v.expiry === 'days'
                  ? { validDays: numberOf(v.validDays) }
                  : { expiresAt: v.expiresOn ? instantOf(`${v.expiresOn}T23:59:59`, store.timeZone) : '' }),
              },
            }
          : {}),
      };
    }),
    holdoutShare: shareOf(d.holdout),
    windowDays: numberOf(d.windowDays),
    clickWindowDays: numberOf(d.clickWindowDays),
    ...(d.when === 'at'
      ? { schedule: { at: d.at ? instantOf(d.at, store.timeZone) : '' } }
      : d.when === 'local'
        ? { schedule: { localTime: d.local } }
        : {}),
    stop:
      d.stop === 'fixed'
        ? { kind: 'fixed' }
        : { kind: 'sequential', minRecipients: numberOf(d.minRecipients) },
  });
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => api<Campaign>('/v1/campaigns', { method: 'POST', body }),
    onSuccess: async (c) => {
      queries.setQueryData(['campaign', c.name], c);
      await queries.invalidateQueries({ queryKey: ['campaigns'] });
      navigate(`/campaigns/${encodeURIComponent(c.name)}`);
    },
  });
  // After a refusal, the first field it names gets the focus (or the message under the form).
  useEffect(() => {
    if (!save.error && !ruleError) return;
    const invalid = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    (invalid ?? document.getElementById('campaign-error'))?.focus();
  }, [save.error, ruleError]);

  if (!templates.data || !segments.data) return <Status query={templates.data ? segments : templates} />;
  if (!draft) return null;
  if (templates.data.data.length === 0)
    return (
      <p role="note">
        {t('campaigns.form.noTemplates')} <Link to="/templates">{t('campaigns.form.toTemplates')}</Link>
      </p>
    );

  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const setVariant = (i: number, patch: Partial<VariantDraft>) =>
    set({ variants: draft.variants.map((v, j) => (j === i ? { ...v, ...patch } : v)) });
  const errors = placeErrors(errorsByPath(save.error), fieldPaths(draft.variants.length));
  const err = (path: string) => errors.get(path);
  const total = [...draft.variants.map((v) => v.share), draft.holdout]
    .map((x) => numberOf(x))
    .reduce<number>((s, x) => s + (typeof x === 'number' ? x : 0), 0);
  const zone = store.timeZone;
  const builtins = segments.data.segments.filter((s) => s.builtin);
  const saved = segments.data.segments.filter((s) => !s.builtin);
  const radio = (name: string, value: string, checked: boolean, onChange: () => void, label: ReactNode) => (
    <label className="choice">
      <input type="radio" name={name} value={value} checked={checked} onChange={onChange} /> {label}
    </label>
  );

  return (
    <form
      ref={formRef}
      className="builder campaign-form"
      aria-labelledby="campaign-new-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        let rule: unknown = undefined;
        if (draft.audience === 'rule') {
          try {
            rule = JSON.parse(draft.rule);
          } catch (x) {
            save.reset();
            setRuleError(t('campaigns.form.badJson', { message: (x as Error).message }));
            return;
          }
        }
        setRuleError(null);
        save.mutate(bodyOf(draft, rule));
      }}
    >
      <CampaignField
        path="name"
        label={t('campaigns.form.name')}
        help={t('campaigns.form.nameHelp')}
        error={err('name')}
      >
        {(aria) => (
          <input
            {...aria}
            value={draft.name}
            maxLength={80}
            autoComplete="off"
            onChange={(e) => set({ name: e.target.value })}
          />
        )}
      </CampaignField>

      <fieldset className="group">
        <legend>{t('campaigns.form.audience')}</legend>
        <div className="choices">
          {radio(
            'audience',
            'segment',
            draft.audience === 'segment',
            () => set({ audience: 'segment' }),
            t('campaigns.form.audienceSegment'),
          )}
          {radio(
            'audience',
            'rule',
            draft.audience === 'rule',
            () => set({ audience: 'rule' }),
            t('campaigns.form.audienceRule'),
          )}
        </div>
        {draft.audience === 'segment' ? (
          <CampaignField path="segment" label={t('campaigns.form.segment')} error={err('segment')}>
            {(aria) => (
              <select {...aria} value={draft.segment} onChange={(e) => set({ segment: e.target.value })}>
                {saved.length ? (
                  <optgroup label={t('campaigns.form.savedSegments')}>
                    {saved.map((s) => (
                      <option key={s.name} value={s.name}>
                        {s.name}
                      </option>
                    ))}
                  </optgroup>
                ) : null}
                <optgroup label={t('campaigns.form.builtinSegments')}>
                  {builtins.map((s) => (
                    <option key={s.name} value={s.name}>
                      {s.name}
                    </option>
                  ))}
                </optgroup>
              </select>
            )}
          </CampaignField>
        ) : (
          <CampaignField
            path="rule"
            label={t('campaigns.form.rule')}
            help={t('campaigns.form.ruleHelp')}
            error={ruleError ?? err('rule')}
            className="wide"
          >
            {(aria) => (
              <textarea
                {...aria}
                rows={6}
                spellCheck={false}
                value={draft.rule}
                onChange={(e) => set({ rule: e.target.value })}
              />
            )}
          </CampaignField>
        )}
      </fieldset>

      <fieldset
        className="group"
        aria-describedby={err('variants') ? `${fieldId('variants')}-error` : undefined}
      >
        <legend>{t('campaigns.form.variants')}</legend>
        {draft.variants.map((v, i) => (
          <fieldset key={i} className="variant campaign-variant" data-variant={i}>
            <legend>{t('campaigns.form.variantN', { key: v.key })}</legend>
            <div className="field-row">
              <CampaignField
                path={`variants.${i}.key`}
                label={t('campaigns.form.key')}
                error={err(`variants.${i}.key`)}
              >
                {(aria) => (
                  <select {...aria} value={v.key} onChange={(e) => setVariant(i, { key: e.target.value })}>
                    {KEYS.map((k) => (
                      <option key={k}>{k}</option>
                    ))}
                  </select>
                )}
              </CampaignField>
              <CampaignField
                path={`variants.${i}.template`}
                label={t('campaigns.form.template')}
                error={err(`variants.${i}.template`)}
              >
                {(aria) => (
                  <select
                    {...aria}
                    value={v.template}
                    onChange={(e) => setVariant(i, { template: e.target.value })}
                  >
                    {templates.data.data.map((x) => (
                      <option key={x.name} value={x.name}>
                        {t('campaigns.form.templateOption', { name: x.name, channel: x.channel })}
                      </option>
                    ))}
                  </select>
                )}
              </CampaignField>
              <CampaignField
                path={`variants.${i}.share`}
                label={t('campaigns.form.share')}
                error={err(`variants.${i}.share`)}
              >
                {(aria) => (
                  <input
                    {...aria}
                    type="number"
                    min="0"
                    max="100"
                    step="any"
                    className="short"
                    value={v.share}
                    onChange={(e) => setVariant(i, { share: e.target.value })}
                  />
                )}
              </CampaignField>
            </div>
            <label className="choice">
              <input
                type="checkbox"
                checked={v.offer}
                onChange={(e) => setVariant(i, { offer: e.target.checked })}
                aria-describedby={`${fieldId(`variants.${i}.offer`)}-help`}
              />{' '}
              {t('campaigns.form.offer')}
            </label>
            <small id={`${fieldId(`variants.${i}.offer`)}-help`} className="muted">
              {t('campaigns.form.offerHelp', { code: '{{ discount_code }}' })}
            </small>
            {v.offer ? (
              <OfferFields
                i={i}
                v={v}
                currency={store.currency}
                zone={zone}
                err={err}
                onChange={(patch) => setVariant(i, patch)}
              />
            ) : null}
            <FieldError path={`variants.${i}.offer`} message={err(`variants.${i}.offer`)} />
            <FieldError path={`variants.${i}`} message={err(`variants.${i}`)} />
            {draft.variants.length > 1 ? (
              <p>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => set({ variants: draft.variants.filter((_, j) => j !== i) })}
                >
                  {t('campaigns.form.removeVariant', { key: v.key })}
                </button>
              </p>
            ) : null}
          </fieldset>
        ))}
        {draft.variants.length < KEYS.length ? (
          <p>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                const key = KEYS.find((k) => !draft.variants.some((v) => v.key === k)) ?? 'A';
                set({
                  variants: [...draft.variants, variantDraft(key, draft.variants[0]?.template ?? '', '10')],
                });
              }}
            >
              {t('campaigns.form.addVariant')}
            </button>
          </p>
        ) : null}
        <FieldError path="variants" message={err('variants')} />
      </fieldset>

      <fieldset className="group">
        <legend>{t('campaigns.form.measure')}</legend>
        <div className="field-row">
          <CampaignField
            path="holdoutShare"
            label={t('campaigns.form.holdout')}
            help={t('campaigns.form.holdoutHelp')}
            error={err('holdoutShare')}
          >
            {(aria) => (
              <input
                {...aria}
                type="number"
                min="1"
                max="90"
                step="any"
                className="short"
                value={draft.holdout}
                onChange={(e) => set({ holdout: e.target.value })}
              />
            )}
          </CampaignField>
          <CampaignField
            path="windowDays"
            label={t('campaigns.form.windowDays')}
            help={t('campaigns.form.windowHelp')}
            error={err('windowDays')}
          >
            {(aria) => (
              <input
                {...aria}
                type="number"
                min="1"
                max="365"
                className="short"
                value={draft.windowDays}
                onChange={(e) => set({ windowDays: e.target.value })}
              />
            )}
          </CampaignField>
          <CampaignField
            path="clickWindowDays"
            label={t('campaigns.form.clickWindowDays')}
            help={t('campaigns.form.clickWindowHelp')}
            error={err('clickWindowDays')}
          >
            {(aria) => (
              <input
                {...aria}
                type="number"
                min="1"
                max="90"
                className="short"
                value={draft.clickWindowDays}
                onChange={(e) => set({ clickWindowDays: e.target.value })}
              />
            )}
          </CampaignField>
        </div>
        <p
          className={Math.abs(total - 100) > 1e-9 ? 'share-total off' : 'share-total'}
          aria-live="polite"
          data-testid="share-total"
        >
          {Math.abs(total - 100) > 1e-9
            ? t('campaigns.form.totalOff', { total: fmt.dec(lang, total, 1) })
            : t('campaigns.form.totalOk')}
        </p>
      </fieldset>

      <fieldset className="group">
        <legend>{t('campaigns.form.when')}</legend>
        <div className="choices">
          {radio(
            'when',
            'launch',
            draft.when === 'launch',
            () => set({ when: 'launch' }),
            t('campaigns.form.whenLaunch'),
          )}
          {radio('when', 'at', draft.when === 'at', () => set({ when: 'at' }), t('campaigns.form.whenAt'))}
          {radio(
            'when',
            'local',
            draft.when === 'local',
            () => set({ when: 'local' }),
            t('campaigns.form.whenLocal'),
          )}
        </div>
        {draft.when === 'at' ? (
          <CampaignField path="schedule" label={t('campaigns.form.at', { zone })} error={err('schedule')}>
            {(aria) => (
              <input
                {...aria}
                type="datetime-local"
                value={draft.at}
                onChange={(e) => set({ at: e.target.value })}
              />
            )}
          </CampaignField>
        ) : draft.when === 'local' ? (
          <CampaignField
            path="schedule"
            label={t('campaigns.form.local')}
            help={t('campaigns.form.localHelp', { zone })}
            error={err('schedule')}
          >
            {(aria) => (
              <input
                {...aria}
                type="datetime-local"
                value={draft.local}
                onChange={(e) => set({ local: e.target.value })}
              />
            )}
          </CampaignField>
        ) : (
          <FieldError path="schedule" message={err('schedule')} />
        )}
      </fieldset>

      <fieldset className="group">
        <legend>{t('campaigns.form.stop')}</legend>
        <div className="choices stacked">
          {radio(
            'stop',
            'fixed',
            draft.stop === 'fixed',
            () => set({ stop: 'fixed' }),
            t('campaigns.form.stopFixed'),
          )}
          {radio(
            'stop',
            'sequential',
            draft.stop === 'sequential',
            () => set({ stop: 'sequential' }),
            t('campaigns.form.stopSequential'),
          )}
        </div>
        {draft.stop === 'sequential' ? (
          <CampaignField
            path="stop.minRecipients"
            label={t('campaigns.form.minRecipients')}
            help={t('campaigns.form.minRecipientsHelp')}
            error={err('stop.minRecipients')}
          >
            {(aria) => (
              <input
                {...aria}
                type="number"
                min="10"
                className="short"
                value={draft.minRecipients}
                onChange={(e) => set({ minRecipients: e.target.value })}
              />
            )}
          </CampaignField>
        ) : null}
        <FieldError path="stop" message={err('stop')} />
      </fieldset>

      <p className="muted">{t('campaigns.form.planNote')}</p>
      <p className="save">
        <button type="submit" disabled={save.isPending}>
          {t('campaigns.form.save')}
        </button>
      </p>
      {save.error || ruleError ? (
        <p role="alert" id="campaign-error" tabIndex={-1} className="field-error" data-testid="create-error">
          {ruleError ?? save.error?.message}
        </p>
      ) : null}
    </form>
  );
}

/** A variant's offer: percent or amount, its codes (generated with a prefix, or a list) and expiry. */
function OfferFields({
  i,
  v,
  currency,
  zone,
  err,
  onChange,
}: {
  i: number;
  v: VariantDraft;
  currency: string | null;
  zone: string;
  err: (path: string) => string | undefined;
  onChange: (patch: Partial<VariantDraft>) => void;
}) {
  const { t } = useTranslation();
  const p = `variants.${i}.offer`;
  const radio = (
    name: string,
    value: string,
    checked: boolean,
    patch: Partial<VariantDraft>,
    label: string,
  ) => (
    <label className="choice">
      <input
        type="radio"
        name={`${name}-${i}`}
        value={value}
        checked={checked}
        onChange={() => onChange(patch)}
      />{' '}
      {label}
    </label>
  );
  return (
    <div className="offer">
      <div className="field-row">
        <CampaignField path={`${p}.kind`} label={t('campaigns.form.offerKind')} error={err(`${p}.kind`)}>
          {(aria) => (
            <select
              {...aria}
              value={v.kind}
              onChange={(e) => onChange({ kind: e.target.value as VariantDraft['kind'] })}
            >
              <option value="percent">{t('campaigns.form.kindPercent')}</option>
              <option value="amount">{t('campaigns.form.kindAmount')}</option>
            </select>
          )}
        </CampaignField>
        <CampaignField
          path={`${p}.value`}
          label={
            v.kind === 'percent'
              ? t('campaigns.form.valuePercent')
              : t('campaigns.form.valueAmount', { currency: currency ?? '—' })
          }
          error={err(`${p}.value`)}
        >
          {(aria) => (
            <input
              {...aria}
              type="number"
              min="0"
              step="any"
              className="short"
              value={v.value}
              onChange={(e) => onChange({ value: e.target.value })}
            />
          )}
        </CampaignField>
      </div>
      <fieldset className="inner">
        <legend>{t('campaigns.form.codes')}</legend>
        <div className="choices">
          {radio(
            'codes',
            'generate',
            v.codes === 'generate',
            { codes: 'generate' },
            t('campaigns.form.codesGenerate'),
          )}
          {radio('codes', 'list', v.codes === 'list', { codes: 'list' }, t('campaigns.form.codesList'))}
        </div>
        {v.codes === 'generate' ? (
          <CampaignField
            path={`${p}.prefix`}
            label={t('campaigns.form.prefix')}
            help={t('campaigns.form.prefixHelp')}
            error={err(`${p}.prefix`)}
          >
            {(aria) => (
              <input
                {...aria}
                value={v.prefix}
                maxLength={20}
                autoComplete="off"
                onChange={(e) => onChange({ prefix: e.target.value.toUpperCase() })}
              />
            )}
          </CampaignField>
        ) : (
          <p className="muted">{t('campaigns.form.listHelp')}</p>
        )}
        <FieldError path={`${p}.codes`} message={err(`${p}.codes`)} />
      </fieldset>
      <fieldset className="inner">
        <legend>{t('campaigns.form.expiry')}</legend>
        <div className="choices">
          {radio('expiry', 'days', v.expiry === 'days', { expiry: 'days' }, t('campaigns.form.expiryDays'))}
          {radio('expiry', 'date', v.expiry === 'date', { expiry: 'date' }, t('campaigns.form.expiryDate'))}
        </div>
        {v.expiry === 'days' ? (
          <CampaignField
            path={`${p}.validDays`}
            label={t('campaigns.form.validDays')}
            error={err(`${p}.validDays`)}
          >
            {(aria) => (
              <input
                {...aria}
                type="number"
                min="1"
                max="366"
                className="short"
                value={v.validDays}
                onChange={(e) => onChange({ validDays: e.target.value })}
              />
            )}
          </CampaignField>
        ) : (
          <CampaignField
            path={`${p}.expiresAt`}
            label={t('campaigns.form.expiresOn', { zone })}
            error={err(`${p}.expiresAt`)}
          >
            {(aria) => (
              <input
                {...aria}
                type="date"
                value={v.expiresOn}
                onChange={(e) => onChange({ expiresOn: e.target.value })}
              />
            )}
          </CampaignField>
        )}
      </fieldset>
    </div>
  );
}
