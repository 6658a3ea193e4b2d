import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, type Me } from '../api';
import type { Interval } from './CampaignCommon';

export const FLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export type FlowStatus = (typeof FLOW_STATUSES)[number];

/** `GET /v1/flows` rows (src/modules/flows/schema.ts `Flow`). */
export interface Flow {
  id: number;
  name: string;
  status: FlowStatus;
  version: number;
  /** The newest version's definition: read defensively, it may hold kinds this page does not know. */
  definition: unknown;
  createdAt: string;
  updatedAt: string;
  activatedAt: string | null;
  runs: { active: number; holdout: number; goal: number; completed: number };
}

/** `GET /v1/flows/{name}`: the flow and every version saved. */
export interface FlowDetail extends Flow {
  versions: { version: number; createdAt: string; createdBy: string | null }[];
}

/** `GET /v1/flows/{name}/simulate?days=N` (src/modules/flows/service.ts `simulateFlow`). */
export interface Simulation {
  flow: string;
  version: number;
  /** `now`: a time trigger, the customers it holds for now (`days` 0); `events`: the trigger's events replayed. */
  mode?: 'now' | 'events';
  days: number;
  trigger: unknown;
  events: number;
  customers: number;
  wouldEnter: number;
  holdout: number;
  excluded: { inFlight: number; reentry: number };
  sample: string[];
}

/** One arm of the comparison (src/analytics/experiments/samples.ts `ArmSummary`). */
export interface ArmSummary {
  n: number;
  mean: number;
  variance: number;
  thirdMoment?: number;
  standardError: number;
}

/** `compareMeans(holdout, treated)` (src/analytics/experiments/compare.ts `MeanComparison`). */
export interface MeanComparison {
  alpha: number;
  control: ArmSummary;
  variant: ArmSummary;
  difference: Interval & {
    alpha: number;
    kind: string;
    standardError: number;
    z: number;
    pValue: number;
    welchDf: number;
    intervalMethod?: 'skewness-corrected' | 'normal';
    skewness?: number;
    outcomeSkewness?: number | null;
  };
  relative: (Interval & { standardError: number }) | null;
  relativeUnavailable: string | null;
}

/** `GET /v1/flows/{name}/report?days=N` (src/modules/flows/report.ts `FlowReport`). */
export interface FlowReport {
  flow: string;
  currency: string | null;
  days: number;
  entered: { treated: number; holdout: number };
  runs: Record<string, number>;
  messages: { step: string; status: string; n: number }[];
  conversions: { treated: number; holdout: number; treatedRate: number | null; holdoutRate: number | null };
  codes: { issued: number; orders: number; revenueMinor: number };
  revenue: {
    runs: { treated: number; holdout: number };
    perEntrantMinor: { treated: number | null; holdout: number | null };
    totalMinor: { treated: number; holdout: number };
    incremental: MeanComparison | null;
    verdict: string | null;
  };
  notes: string[];
}

export const flowPath = (name: string) => `/v1/flows/${encodeURIComponent(name)}`;

/**
 * May the signed-in role save, activate, pause and archive flows? The API asks `campaigns:write` for
 * `PUT /v1/flows/{name}` and the moves (admin, marketer); it refuses the rest anyway, the pages do not
 * offer it.
 */
export function useFlowWrite(): boolean {
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  return me.data?.role === 'admin' || me.data?.role === 'marketer';
}

/** The templates the dashboard knows (`GET /v1/templates`): a flow's send links to them. */
export function useTemplateNames(): Set<string> | null {
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: () => api<{ data: { name: string }[] }>('/v1/templates'),
  });
  return templates.data ? new Set(templates.data.data.map((x) => x.name)) : null;
}

/**
 * The badge's colour, borrowed from the campaigns' (the word is there too): an active flow looks like
 * a sending campaign, an archived one like a cancelled one.
 */
const LOOK: Record<FlowStatus, string> = {
  draft: 'draft',
  active: 'sending',
  paused: 'paused',
  archived: 'cancelled',
};

export function FlowStatusBadge({ status }: { status: FlowStatus }) {
  const { t } = useTranslation();
  return (
    <span className={`badge status-${LOOK[status] ?? 'draft'}`} data-status={status}>
      {t(`flows.status.${status}`)}
    </span>
  );
}

/** Who saved a version: a user's email without its `user:` prefix. */
export const byWhom = (by: string | null) => (by ? by.replace(/^user:/, '') : '—');

/** A starting definition (docs/flows.md's welcome series), sending `template` at each send. */
export function starterFlow(template: string): string {
  return JSON.stringify(
    {
      name: 'welcome',
      description: 'Welcome series for new customers',
      trigger: { event: 'customer.created' },
      goal: { event: 'order.placed' },
      reentry: { kind: 'once' },
      holdoutShare: 0.1,
      steps: [
        { id: 'hello', send: { template } },
        { id: 'day', wait: { days: 1 } },
        { id: 'ten', waitUntil: { localTime: '10:00' } },
        {
          id: 'consented',
          branch: {
            if: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
            then: 'tips',
            else: 'exit',
          },
        },
        { id: 'tips', send: { template } },
      ],
    },
    null,
    2,
  );
}
