import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Me } from '../api';

export type SurveyKind = 'nps' | 'csat';
export type SurveyStatus = 'active' | 'archived';

/** `GET /v1/surveys` rows (src/modules/surveys/schema.ts `Survey`). */
export interface Survey {
  name: string;
  kind: SurveyKind;
  status: SurveyStatus;
  /** The messaging template of the invitation (`survey-<name>`). */
  template: string;
  /** The definition as saved: read defensively, it may hold fields this page does not know. */
  definition: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** A 95 % interval `[low, high]`. */
export type Interval95 = [number, number];

/** One group of a breakdown: its answers and score (NPS points or CSAT %) with its 95 % interval. */
export interface BreakdownGroup {
  /** A segment's name, a channel (`(unknown)` when missing), a product's SKU, a cohort `YYYY-MM` or `(no order)`. */
  key: string;
  /** The product's title (products only). */
  label?: string;
  answered: number;
  score: number;
  interval95: Interval95;
  /** Fewer than 30 answers: read with care. */
  few: boolean;
}

/** The groups the API lists (at most 20) and how many it left out. */
export interface Breakdown {
  groups: BreakdownGroup[];
  more: number;
}

export const BREAKDOWNS = ['segment', 'channel', 'product', 'cohort'] as const;
export type BreakdownBy = (typeof BREAKDOWNS)[number];

/** A "why" theme: a stemmed word (`term`) or two-word phrase, as people wrote it. */
export interface Theme {
  kind: 'term' | 'phrase';
  language: 'uk' | 'ru' | 'en';
  stem: string;
  label: string;
  forms: string[];
  count: number;
  share: number;
  examples: string[];
}

/** The themes of one score band's "why" answers. */
export interface BandThemes {
  band: string;
  answers: number;
  withWhy: number;
  terms: Theme[];
  phrases: Theme[];
}

/** A difference with its 95 % interval; null when a side has fewer than two. */
export type Difference = { estimate: number; low: number; high: number } | null;

/** NPS next to CLV, one score band (each customer once, by their latest answer). Money in minor units. */
export interface ValueBand {
  band: string;
  customers: number;
  withClv: number;
  meanClvMinor: number | null;
  meanNetToDateMinor: number | null;
  /** Customers whose window after the answer is over (the figures after are over these). */
  matured: number;
  /** Share (0..1) who bought in the window after answering. */
  repeatRate: number | null;
  revenueAfterMinor: number | null;
}

/** "Do promoters spend more?" (null without a store currency). */
export interface SurveyValue {
  currency: string;
  windowDays: number;
  /** The CLV prediction run the figures use; null before any. */
  clv: { asOf: string; horizon: number; timeUnit: string; currency: string } | null;
  bands: ValueBand[];
  /** Top band − bottom band. */
  topVsBottom: { clvMinor: Difference; repeatRate: Difference; revenueAfterMinor: Difference };
  /** In English, as the API words it. */
  verdict: string;
}

/** Low scores whose call task is done, or the others. */
export interface EffectGroup {
  lowScores: number;
  /** Low scores at least the window old (the figures are over these). */
  matured: number;
  repeatRate: number | null;
  revenueAfterMinor: number | null;
  boughtBefore: number | null;
  revenueBeforeMinor: number | null;
}

/** The effect of calls: low scores resolved against unresolved (null without a store currency). */
export interface SurveyEffect {
  currency: string;
  windowDays: number;
  lowScoreAtMost: number;
  resolved: EffectGroup;
  unresolved: EffectGroup;
  /** Resolved − unresolved. */
  difference: { repeatRate: Difference; revenueAfterMinor: Difference };
  /** In English, as the API words it. */
  verdict: string;
}

/** `GET /v1/surveys/{name}/results` (src/modules/surveys/schema.ts `SurveyResults`). */
export interface SurveyResults {
  survey: string;
  kind: SurveyKind;
  invited: number;
  answered: number;
  withReason: number;
  responseRate: number | null;
  /** NPS in points (−100…100), null without answers; its bands. */
  nps?: number | null;
  promoters?: number;
  passives?: number;
  detractors?: number;
  /** CSAT in percent (0…100), null without answers; its bands. */
  csat?: number | null;
  happy?: number;
  neutral?: number;
  unhappy?: number;
  /** The headline's 95 % interval; null without answers. */
  interval95: Interval95 | null;
  tasks: number;
  /** "Why" themes per score band, worst band first. */
  themes: BandThemes[];
  months: { month: string; answered: number; score: number }[];
  by: Record<BreakdownBy, Breakdown>;
  value: SurveyValue | null;
  effect: SurveyEffect | null;
  /** Definitions, in English. */
  notes: string[];
}

/** `GET /v1/surveys/{name}/answers` rows, newest first. */
export interface SurveyAnswer {
  customer: string;
  score: number;
  band: string;
  why: string | null;
  locale: string | null;
  answeredAt: string;
  taskId: string | null;
}

/** `GET /v1/surveys/{name}/answers`: a keyset page. */
export interface SurveyAnswersPage {
  data: SurveyAnswer[];
  nextCursor: string | null;
}

/** The score bands of a kind as the API names them, worst first. */
export const BANDS: Record<SurveyKind, readonly string[]> = {
  nps: ['detractor', 'passive', 'promoter'],
  csat: ['unhappy', 'neutral', 'happy'],
};

/** The catalogue key of a band's name ("detractor" → `surveys.results.npsBands.detractors`). */
export const bandLabel = (kind: SurveyKind, band: string) =>
  `surveys.results.${kind}Bands.${kind === 'nps' ? `${band}s` : band}`;

/** The purchase windows the results offer (days after an answer); 90 is the API's default. */
export const WINDOWS = [30, 90, 180] as const;
export const DEFAULT_WINDOW = 90;

/** `POST /v1/surveys/{name}/invitations`. */
export interface InviteResult {
  invited: number;
  alreadyInvited: number;
  throttled: number;
  skipped: { customer: string; reason: string }[];
}

export const surveyPath = (name: string) => `/v1/surveys/${encodeURIComponent(name)}`;

/**
 * May the signed-in role save, invite to and archive surveys (`surveys:write`: admin, marketer)? The
 * API refuses the rest anyway; the pages do not offer it.
 */
export function useSurveyWrite(): boolean {
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  return me.data?.role === 'admin' || me.data?.role === 'marketer';
}

/** The badge's colour, borrowed from the campaigns' (the word is there too). */
const LOOK: Record<SurveyStatus, string> = { active: 'sending', archived: 'cancelled' };

export function SurveyStatusBadge({ status }: { status: SurveyStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${LOOK[status] ?? 'draft'}`} data-status={status}>
      {t(`surveys.status.${status}`)}
    </span>
  );
}

/** The headline of a kind: NPS in points with its sign (+45, −100), CSAT as a percentage. */
export function headline(lang: string, kind: SurveyKind, score: number | null | undefined): string {
  if (score === null || score === undefined) return '—';
  return kind === 'nps'
    ? new Intl.NumberFormat(lang, { maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(score)
    : new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 1 }).format(score / 100);
}

/** A month `YYYY-MM` as it reads ("Dec 2026"). */
export const monthLabel = (lang: string, month: string) =>
  new Date(`${month}-01T00:00:00Z`).toLocaleDateString(lang, {
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });

/** A starting definition (docs/surveys.md), its call tasks going to `assignee`. */
export function starterSurvey(assignee: string): string {
  return JSON.stringify(
    {
      name: 'after-delivery',
      kind: 'nps',
      throttleDays: 30,
      expiresDays: 14,
      lowScore: { atMost: 6, negativeWords: true, assignees: [assignee], slaHours: 24 },
      followUp: true,
    },
    null,
    2,
  );
}
