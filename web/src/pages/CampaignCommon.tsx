import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError, type Me } from '../api';
import { fmt } from '../format';

/** When a campaign (or a variant) sends: at the launch (null), an instant, or a wall time in each customer's zone. */
export type Schedule = { at: string; localTime?: undefined } | { localTime: string; at?: undefined };

export interface Offer {
  kind: 'percent' | 'amount';
  /** Percent off (1–100), or an amount off in the store currency's minor units. */
  value: number;
  codes: 'generate' | 'list';
  prefix?: string;
  expiresAt?: string;
  validDays?: number;
}

export const STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'done', 'cancelled'] as const;
export type CampaignStatus = (typeof STATUSES)[number];

/** `GET /v1/campaigns/{name}` (src/modules/campaigns/schema.ts). */
export interface Campaign {
  id: number;
  name: string;
  segment: string | null;
  rule: unknown;
  channel: string;
  holdoutShare: number;
  windowDays: number;
  clickWindowDays: number;
  stop: { kind: 'fixed' } | { kind: 'sequential'; minRecipients: number };
  schedule: Schedule | null;
  status: CampaignStatus;
  sendAt: string | null;
  problem: string | null;
  variants: {
    key: string;
    template: string;
    share: number;
    offer: Offer | null;
    schedule: Schedule | null;
  }[];
  createdAt: string;
  createdBy: string | null;
  launchedAt: string | null;
  pausedAt: string | null;
  doneAt: string | null;
  pending: number;
}

/** `POST /v1/campaigns/{name}/launch`. */
export interface LaunchResult {
  campaign: Campaign;
  recipients: number;
  arms: Record<string, number>;
  queued: number;
  alreadyQueued: number;
}

/** `GET /v1/campaigns/{name}/plan` (src/modules/campaigns/report.ts). */
export interface Plan {
  campaign: string;
  audience: number;
  holdout: number;
  treatment: number;
  baselineMeanMinor: number;
  baselineSdMinor: number;
  minimumDetectableEffectMinor: number | null;
  minimumDetectableEffectRelative: number | null;
  recipientsFor20Percent: number | null;
  summary: string;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}
export interface Comparison {
  difference: Interval;
  relative: Interval | null;
}
export interface ArmReport {
  arm: string;
  template: string | null;
  share: number;
  recipients: number;
  messages: Record<string, number>;
  orders: number;
  buyers: number;
  revenueMinor: number;
  revenuePerRecipientMinor: number | null;
  engagement: {
    sent: number;
    delivered: number;
    bounced: number;
    opened: number;
    clicked: number;
    unsubscribed: number;
  };
  attributed: {
    byCode: { orders: number; revenueMinor: number };
    byClick: { orders: number; revenueMinor: number; clickers: number };
  };
  codes: number;
}
export type StopDecision =
  | 'wait'
  | 'read'
  | 'continue'
  | 'stop-variant-better'
  | 'stop-variant-worse'
  | 'stop-no-difference-detectable';
export interface Effect {
  variant: string;
  incremental: Comparison;
  cuped: (Comparison & { theta: number; varianceReduction: number }) | null;
  probabilityToBeatHoldout: number;
  incrementalRevenueMinor: number;
  verdict: string;
  stop: {
    rule: 'fixed' | 'sequential';
    decision: StopDecision;
    reason: string;
    alwaysValid: { low: number; high: number; tau: number } | null;
  };
}
/** `GET /v1/campaigns/{name}/report`. */
export interface Report {
  campaign: string;
  currency: string | null;
  launchedAt: string;
  window: { start: string; end: string; days: number; complete: boolean };
  arms: ArmReport[];
  effects: Effect[];
  sampleRatio: { mismatch: boolean; pValue: number; statistic: number } | null;
  minimumDetectableEffectMinor: number | null;
  notes: string[];
}

/** A row of `GET /v1/campaigns/{name}/codes`. */
export interface CodeRow {
  code: string;
  variant: string;
  customer: string | null;
  kind: 'percent' | 'amount' | null;
  value: number | null;
  expiresAt: string | null;
}

export const campaignPath = (name: string) => `/v1/campaigns/${encodeURIComponent(name)}`;

/** The store's currency and time zone (`GET /v1/store`, the cache the Settings page shares). */
export function useStoreInfo(): { currency: string | null; timeZone: string } {
  const store = useQuery({
    queryKey: ['store'],
    queryFn: () => api<{ currency: string | null; timeZone: string }>('/v1/store'),
  });
  return { currency: store.data?.currency ?? null, timeZone: store.data?.timeZone ?? 'UTC' };
}

/**
 * May the signed-in role create, launch, pause, resume and cancel campaigns and see their codes
 * (`campaigns:write`: admin, marketer)? The API refuses the rest anyway; the pages do not offer it.
 */
export function useCampaignWrite(): boolean {
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  return me.data?.role === 'admin' || me.data?.role === 'marketer';
}

/** Digits of a currency's minor unit, as `Intl` knows them. */
export const digitsOf = (currency: string) =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** The offset of `zone` from UTC at an instant (ms). */
function offsetMs(zone: string, at: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - at;
}

/** A wall time `YYYY-MM-DDTHH:MM[:SS]` in `zone` as an ISO instant (the later one in a DST overlap). */
export function instantOf(wall: string, zone: string): string {
  const asUtc = Date.parse(`${wall.length === 16 ? `${wall}:00` : wall}Z`);
  if (Number.isNaN(asUtc)) return wall;
  let at = asUtc - offsetMs(zone, asUtc);
  at = asUtc - offsetMs(zone, at);
  return new Date(at).toISOString();
}

/**
 * The campaigns pages' formatters, by `Intl` in the interface language (format.ts): money from minor
 * units in `currency` (plain figures without one), dates in the store's time zone.
 */
export function campaignFormat(lang: string, currency: string | null, timeZone: string) {
  const digits = currency ? digitsOf(currency) : 2;
  const money = (minor: number) =>
    currency ? fmt.money(lang, minor / 10 ** digits, currency) : fmt.dec(lang, minor / 10 ** digits, digits);
  return {
    digits,
    int: (n: number) => fmt.int(lang, n),
    money,
    /** Money with its sign: +€3.35, −€1.20, €0.00. */
    signed: (minor: number) => {
      const whole = Math.round(minor);
      return whole > 0 ? `+${money(minor)}` : whole === 0 ? money(0) : money(minor);
    },
    pct: (x: number | null) => (x === null ? '—' : fmt.pct(lang, x)),
    /** A share of a count, '—' when there is nothing to divide by. */
    rate: (n: number, of: number) => (of > 0 ? fmt.pct(lang, n / of) : '—'),
    /** A share as a whole percentage when it is one (10 %), else one decimal. */
    share: (x: number) =>
      new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(x),
    when: (iso: string) =>
      new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone }),
    day: (iso: string) => new Date(iso).toLocaleDateString(lang, { dateStyle: 'medium', timeZone }),
    /** A wall time `YYYY-MM-DDTHH:MM` as it reads (no zone). */
    wall: (local: string) =>
      new Date(`${local}:00Z`).toLocaleString(lang, {
        dateStyle: 'medium',
        timeStyle: 'short',
        timeZone: 'UTC',
      }),
    /** A p-value: two significant digits. */
    p: (x: number) => new Intl.NumberFormat(lang, { maximumSignificantDigits: 2 }).format(x),
  };
}
export type CampaignFormat = ReturnType<typeof campaignFormat>;

/** What a schedule says, in words. */
export function useScheduleText() {
  const { t } = useTranslation();
  return (schedule: Schedule | null, f: CampaignFormat) =>
    !schedule
      ? t('campaigns.schedule.whenLaunched')
      : schedule.at !== undefined
        ? t('campaigns.schedule.atText', { when: f.when(schedule.at) })
        : t('campaigns.schedule.localText', { when: f.wall(schedule.localTime) });
}

/** An offer in words: "15 % off, generated codes (SPRING-…), valid 14 days". */
export function useOfferText() {
  const { t } = useTranslation();
  return (offer: Offer | null, f: CampaignFormat) => {
    if (!offer) return t('campaigns.offer.none');
    const value =
      offer.kind === 'percent'
        ? t('campaigns.offer.percentOff', { value: f.int(offer.value) })
        : t('campaigns.offer.amountOff', { value: f.money(offer.value) });
    const codes =
      offer.codes === 'list'
        ? t('campaigns.offer.fromList')
        : offer.prefix
          ? t('campaigns.offer.generatedWith', { prefix: offer.prefix })
          : t('campaigns.offer.generated');
    const expiry =
      offer.validDays !== undefined
        ? t('campaigns.offer.validDaysText', { days: f.int(offer.validDays) })
        : offer.expiresAt
          ? t('campaigns.offer.expiresText', { when: f.when(offer.expiresAt) })
          : '';
    return [value, codes, expiry].filter(Boolean).join(', ');
  };
}

/** A campaign's status as a badge (its colour is not the only cue: the word is there). */
export function StatusBadge({ status }: { status: CampaignStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {t(`campaigns.status.${status}`)}
    </span>
  );
}

/**
 * The API's complaints by path: each `details.issues[{path, message}]` as it words it, and a
 * `details.field` with the error's message (a conflict, a template that never shows the code).
 */
export function errorsByPath(err: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!(err instanceof ApiError)) return out;
  const d = err.details as { issues?: { path: string; message: string }[]; field?: string } | undefined;
  for (const i of d?.issues ?? []) if (!out.has(i.path)) out.set(i.path, i.message);
  if (d?.field && !out.has(d.field)) out.set(d.field, err.message);
  return out;
}

/** Whether `path` is `field` or inside it (`variants.0.offer.value` is inside `variants.0.offer`). */
const inside = (path: string, field: string) =>
  path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);

/**
 * Each error at the nearest field the form shows: `errors` keyed by API path, `fields` the paths the
 * form has a place for. An error no field holds is returned under `''`.
 */
export function placeErrors(errors: Map<string, string>, fields: string[]): Map<string, string> {
  const placed = new Map<string, string>();
  for (const [path, message] of errors) {
    const at = fields.filter((f) => inside(path, f)).sort((a, b) => b.length - a.length)[0] ?? '';
    const before = placed.get(at);
    placed.set(at, before ? `${before} ${message}` : message);
  }
  return placed;
}

/** The id of the control of an API path (`variants.0.share` → `cf-variants-0-share`). */
export const fieldId = (path: string) => `cf-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

/**
 * A labelled control for the API path `path`, with its help and the API's error for it (tied by
 * aria-describedby, marked aria-invalid).
 */
export function CampaignField(props: {
  path: string;
  label: ReactNode;
  help?: string | undefined;
  error?: string | undefined;
  className?: string;
  children: (aria: { id: string; 'aria-describedby'?: string; 'aria-invalid': boolean }) => ReactNode;
}) {
  const id = fieldId(props.path);
  const described = [props.help ? `${id}-help` : '', props.error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={`cfield ${props.className ?? ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children({
        id,
        ...(described ? { 'aria-describedby': described } : {}),
        'aria-invalid': !!props.error,
      })}
      {props.help ? (
        <small id={`${id}-help`} className="muted">
          {props.help}
        </small>
      ) : null}
      <FieldError path={props.path} message={props.error} />
    </div>
  );
}

/** The API's message for a field or a group of fields (`id`: the path's control id + `-error`). */
export function FieldError({ path, message }: { path: string; message?: string | undefined }) {
  if (!message) return null;
  return (
    <span id={`${fieldId(path)}-error`} className="field-error" data-error-for={path}>
      {message}
    </span>
  );
}
