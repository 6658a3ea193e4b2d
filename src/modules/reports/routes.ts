import { z } from '@hono/zod-openapi';
import {
  ChannelsInput,
  CohortsInput,
  CohortsOptions,
  DiagnoseInput,
  DigestInput,
  DigestOptions,
  LtvInput,
  RetentionInput,
  RfmInput,
  SummaryInput,
  OverviewInput,
} from './schema.js';
import {
  channelsReport,
  cohortsReport,
  diagnoseReport,
  digestJson,
  digestReport,
  ltvReport,
  retentionReport,
  rfmReport,
  summaryReport,
} from './service.js';
import { overviewReport } from './overview.js';
import type { Auth } from '../../kit/http/auth.js';
import { parseInput, queryFlag, queryOf } from '../../kit/http/input.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import type { ModuleContext } from '../../kit/context.js';
import { documented, json } from '../../kit/http/openapi.js';

/** A route's input schema (with the query coercions) and service, typed together. */
const route = <S extends z.ZodObject>(
  summary: string,
  query: S,
  service: (ctx: ModuleContext, input: z.infer<S>) => Promise<unknown>,
  command?: z.ZodObject,
) => ({
  summary,
  query,
  /** The command's options that are not inputs (`out`, `show`): refused as CLI-only. */
  cliOnly: command ? Object.keys(command.shape).filter((k) => !(k in query.shape)) : [],
  run: (raw: unknown, ctx: ModuleContext) => service(ctx, parseInput(query, raw, 'query', command)),
});

const ROUTES = {
  summary: route('Customers, orders, revenue, AOV, repeat rate', SummaryInput, summaryReport),
  overview: route(
    'A period against the one before: the dashboard Overview, with sparklines',
    OverviewInput,
    overviewReport,
  ),
  ltv: route('Lifetime value: formulas, observed and predicted', LtvInput, ltvReport),
  retention: route('Retention, churn and repeat purchase by period', RetentionInput, retentionReport),
  cohorts: route('Acquisition cohorts', CohortsInput, cohortsReport, CohortsOptions),
  rfm: route(
    'RFM segments',
    // A query flag is the text `true` or `false`.
    RfmInput.extend({ customers: queryFlag.optional().describe(RfmInput.shape.customers.description!) }),
    rfmReport,
  ),
  channels: route('CAC, LTV:CAC and payback per channel', ChannelsInput, channelsReport),
  diagnose: route('What moved revenue per customer', DiagnoseInput, diagnoseReport),
  digest: route(
    'Monthly digest (Markdown and data)',
    DigestInput,
    async (ctx, input) => digestJson(await digestReport(ctx, input)),
    DigestOptions,
  ),
};

/**
 * Every `retain report` as `GET /v1/reports/<name>`: the query is parsed with the report's input schema
 * (camelCase names, as the command's options) and the answer is the command's JSON. Unknown names are
 * refused, and so are the command's own options (`digest --out`: the API never writes server files).
 */
export function registerReportRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  for (const [name, r] of Object.entries(ROUTES)) {
    app.get(
      `/v1/reports/${name}`,
      documented(app, auth, 'reports:read', {
        method: 'get',
        path: `/v1/reports/${name}`,
        tags: ['reports'],
        summary: r.summary,
        description:
          `Same options and JSON as \`retain report ${name} --json\`; asOf is YYYY-MM-DD, a day in the store time zone (default: the last order day). ` +
          `Unknown parameters are refused${r.cliOnly.length ? `, and so are CLI-only ones (${r.cliOnly.join(', ')})` : ''}.`,
        request: { query: r.query },
        responses: { 200: json(z.record(z.string(), z.unknown()), `The ${name} report`) },
      }),
      async (c) => c.json((await r.run(queryOf(c.req.queries()), deps)) as Record<string, unknown>),
    );
  }
}
