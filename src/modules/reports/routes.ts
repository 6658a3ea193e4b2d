import { z } from '@hono/zod-openapi';
import * as reports from './service.js';
import {
  ChannelOptions,
  CohortOptions,
  DiagnoseOptions,
  LtvOptions,
  RetentionOptions,
  RfmOptions,
} from './schema.js';
import { AppError } from '../../shared/errors.js';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';

/**
 * Every `retain report` as `GET /v1/reports/<name>` with the same options (camelCase query names) and
 * the same JSON. (Lives in server/ while modules/reports is being written by its owner; the handlers
 * only call its services.) `digest` is served without `out`: the API never writes server files.
 */
const REPORTS: Record<
  string,
  {
    summary: string;
    query: z.ZodObject;
    run: (db: ServerDeps['db'], q: Record<string, unknown>) => Promise<unknown>;
  }
> = {
  summary: {
    summary: 'Customers, orders, revenue, AOV, repeat rate',
    query: z.object({ asOf: z.string().optional() }),
    run: (db, q) => reports.summaryReport(db, q.asOf as string | undefined),
  },
  ltv: {
    summary: 'Lifetime value: formulas, observed and predicted',
    query: LtvOptions,
    run: reports.ltvReport,
  },
  retention: {
    summary: 'Retention, churn and repeat purchase by period',
    query: RetentionOptions,
    run: reports.retentionReport,
  },
  cohorts: { summary: 'Acquisition cohorts', query: CohortOptions, run: reports.cohortsReport },
  rfm: {
    summary: 'RFM segments',
    query: RfmOptions,
    run: (db, q) =>
      reports.rfmReport(db, {
        ...q,
        ...(q.customers !== undefined ? { customers: q.customers === 'true' } : {}),
      }),
  },
  channels: {
    summary: 'CAC, LTV:CAC and payback per channel',
    query: ChannelOptions,
    run: reports.channelsReport,
  },
  diagnose: {
    summary: 'What moved revenue per customer',
    query: DiagnoseOptions,
    run: reports.diagnoseReport,
  },
  digest: {
    summary: 'Monthly digest (Markdown and data)',
    query: z.object({ asOf: z.string().optional(), month: z.string().optional() }),
    run: (db, q) => {
      if (q.out !== undefined)
        throw new AppError('validation', 'out is not available over HTTP', { where: { field: 'out' } });
      return reports.digestReport(db, q);
    },
  },
};

export function registerReportRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  for (const [name, r] of Object.entries(REPORTS)) {
    app.get(
      `/v1/reports/${name}`,
      documented(app, auth, 'reports:read', {
        method: 'get',
        path: `/v1/reports/${name}`,
        tags: ['reports'],
        summary: r.summary,
        description: `Same options and JSON as \`retain report ${name} --json\`; asOf is YYYY-MM-DD (default: the last order day).`,
        request: { query: r.query },
        responses: { 200: json(z.record(z.string(), z.unknown()), `The ${name} report`) },
      }),
      async (c) => c.json((await r.run(deps.db, c.req.query())) as Record<string, unknown>),
    );
  }
}
