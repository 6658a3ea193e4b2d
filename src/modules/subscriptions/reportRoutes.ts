import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { json, securedRoute } from '../../kit/http/openapi.js';
import { SubscriptionReport, SubscriptionReportInput, subscriptionReport } from './reports.js';

/**
 * The subscription reports' routes (docs/subscriptions.md#reports): `GET /v1/subscriptions/report`,
 * the data of `retain subscriptions report`. Must be mounted before `/v1/subscriptions/{id}`, which
 * would take "report" for an id.
 */
export function registerSubscriptionReportRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'subscriptions:read', {
      method: 'get',
      path: '/v1/subscriptions/report',
      tags: ['subscriptions'],
      summary:
        'MRR and its movements by month, churn and retention by start cohort with the sBG survival forecast, cancel reasons, subscribers vs one-off buyers',
      description:
        'Months in the store time zone, money in the store currency (minor units). `train`: the months the forecast-vs-actual model is fitted on; `ltvMonths`: the window of the subscribers vs one-off buyers comparison (`retain subscriptions report`, docs/subscriptions.md#reports).',
      request: { query: SubscriptionReportInput },
      responses: { 200: json(SubscriptionReport, 'The report') },
    }),
    async (c) => c.json(await subscriptionReport(deps, c.req.valid('query')), 200),
  );
}
