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

/** `GET /v1/surveys/{name}/results` (src/modules/surveys/service.ts `surveyResults`). */
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
  tasks: number;
  months: { month: string; answered: number; score: number }[];
}

/** `GET /v1/surveys/{name}/answers` rows. */
export interface SurveyAnswer {
  customer: string;
  score: number;
  why: string | null;
  locale: string | null;
  answeredAt: string;
  taskId: string | null;
}

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
