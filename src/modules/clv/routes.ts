import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import {
  FitInput,
  FitOptions,
  PredictInput,
  PredictOptions,
  ValidateInput,
  ValidateOptions,
} from './schema.js';
import {
  fit,
  fitJson,
  latestRunPredictions,
  latestRunPredictionsCsv,
  latestRunSummary,
  validate,
} from './service.js';
import { RUN_SORTS } from './repository.js';
import { customerPrediction } from '../customers/service.js';
import type { Job } from '../jobs/schema.js';
import { AppError } from '../../shared/errors.js';
import { ROLE_PERMISSIONS, type Auth } from '../../kit/http/auth.js';
import { parseInput } from '../../kit/http/input.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';

const PredictJob = z
  .object({
    jobId: z.number(),
    status: z.enum(['queued', 'running', 'done', 'dead']),
    attempts: z.number(),
    lastError: z.string().nullable(),
    result: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: 'the `retain clv predict --json` outcome' }),
  })
  .openapi('ClvPredictJob');

const view = (j: Job) => ({
  jobId: j.jobId,
  status: j.status,
  attempts: j.attempts,
  lastError: j.lastError,
  result: (j.result ?? null) as Record<string, unknown> | null,
});

// The bodies are the services' input schemas, named for the OpenAPI document (re-wrapped: the module's
// schemas may be built before the OpenAPI extension loads); the CLI commands' schemas (with `--summary`,
// `--out`, …) only serve to refuse their file options by name.
const FitBody = z.object(FitInput.shape).openapi('ClvFit');
const PredictBody = z.object(PredictInput.shape).openapi('ClvPredict');
const ValidateBody = z.object(ValidateInput.shape).openapi('ClvValidate');

const FitResult = z
  .object({
    model: FitInput.shape.model,
    params: z.record(z.string(), z.number()).openapi({
      description: 'BG/NBD and MBG/NBD r, alpha, a, b; Pareto/NBD r, alpha, s, beta; Gamma-Gamma p, q, v',
    }),
    logLikelihood: z.number(),
    customers: z.number().openapi({ description: 'customers fitted (Gamma-Gamma: repeat buyers)' }),
    seconds: z.number(),
    warnings: z.array(z.string()).openapi({
      description:
        'e.g. parameters the history does not identify (no visible dropout); empty when the fit is sound',
    }),
  })
  .openapi('ClvFitResult');

const Bin = z.object({ from: z.number(), to: z.number().nullable(), customers: z.number().int() });

const RunSummary = z
  .object({
    modelVersion: z.string(),
    models: z
      .array(z.string())
      .openapi({ description: 'the purchase model, and gamma-gamma when CLV is known' }),
    asOf: z.string().openapi({ description: 'the calibration end the run predicted from' }),
    horizon: z.number(),
    timeUnit: z.string(),
    clvMonths: z.number().nullable(),
    currency: z.string(),
    storedAt: z.string(),
    customers: z.number().int(),
    withClv: z.number().int(),
    expectedPurchasesTotal: z.number(),
    clvTotal: z.number().nullable().openapi({ description: 'major units' }),
    clvMedian: z.number().nullable(),
    churnRiskMedian: z.number().nullable(),
    clvHistogram: z.array(Bin).openapi({
      description: 'about 20 equal bins from 0 to the 99th percentile, then one open bin (to: null)',
    }),
    churnRiskHistogram: z.array(Bin).openapi({ description: 'ten bins of 0.1' }),
    fit: z
      .object({
        jobId: z.number(),
        finishedAt: z.string().nullable(),
        input: z.unknown(),
        result: z.unknown().openapi({ description: 'the `retain clv predict --json` document' }),
      })
      .nullable()
      .openapi({ description: 'the clv-predict job that stored the run (null: it ran from the CLI)' }),
  })
  .openapi('ClvRunSummary');

const RunPredictionsQuery = z.object({
  sort: z
    .enum(Object.keys(RUN_SORTS) as [keyof typeof RUN_SORTS, ...(keyof typeof RUN_SORTS)[]])
    .default('churnRisk')
    .openapi({ description: 'churnRisk (default), pAlive, clv, expectedPurchases or nextOrderAt' }),
  order: z
    .enum(['asc', 'desc'])
    .optional()
    .openapi({ description: 'default desc (nextOrderAt: asc); missing values last' }),
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: 'JSON: the first n' }),
  format: z.enum(['json', 'csv']).default('json').openapi({ description: 'csv: every prediction, a file' }),
});

const RunPrediction = z.object({
  customerId: z.string(),
  email: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  pAlive: z.number(),
  churnRisk: z.number().openapi({ description: '1 − pAlive' }),
  expectedPurchases: z.number(),
  clv: z.number().nullable().openapi({ description: 'major units; null without a spend model' }),
  expectedSpend: z.number().nullable(),
  nextOrderAt: z.string().nullable(),
});

/**
 * CLV over HTTP on the server's store: predictions run as jobs (they write a row per customer); fits and
 * holdout validations answer at once (about a second on the demo's 4,000 customers, mostly reading the
 * orders); a customer's latest prediction.
 */
export function registerClvRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const tags = ['clv'];
  app.post(
    '/v1/clv/predictions',
    documented(app, auth, 'models:run', {
      method: 'post',
      path: '/v1/clv/predictions',
      tags,
      summary: 'Fit and predict CLV from the stored orders (a background job)',
      description:
        "Same options as `retain clv predict` (calibrated on stored orders); predictions are stored per customer. Without `model` the purchase model is chosen by holdout fit (docs/metrics.md#clv.selection); the job result is the `retain clv predict --json` document (model, selection with the candidates' holdout errors and the reason, churnRisk) plus `out: null`.",
      request: { body: { required: true, content: { 'application/json': { schema: PredictBody } } } },
      responses: { 202: json(PredictJob, 'Queued') },
    }),
    async (c) => {
      const raw = (await c.req.json()) as Record<string, unknown>;
      // Validate now (API names and error shape); the job parses the same body with the same schema.
      parseInput(PredictInput, raw, 'body', PredictOptions);
      const key = c.req.header('idempotency-key') ?? `clv-predict:${randomUUID()}`;
      const { job } = await deps.jobs.enqueue('clv-predict', raw, { idempotencyKey: key, maxAttempts: 2 });
      c.header('Location', `/v1/clv/predictions/${job.jobId}`);
      return c.json(view(job), 202);
    },
  );
  app.get(
    '/v1/clv/summary',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/clv/summary',
      tags,
      summary: 'The latest stored CLV run: settings, totals, CLV and churn-risk distributions, its fit',
      description:
        'The run is the latest stored predictions (largest as-of, then the most recently stored). `fit` is the result of the `clv-predict` job that stored it (model, parameters, log-likelihoods, the holdout model selection), null for a run made by `retain clv predict`. 404 before the first run.',
      responses: { 200: json(RunSummary, 'The run') },
    }),
    async (c) => c.json(await latestRunSummary(deps)),
  );
  app.get(
    '/v1/clv/predictions',
    documented(app, auth, 'customers:read', {
      method: 'get',
      path: '/v1/clv/predictions',
      tags,
      summary:
        "The latest run's predictions per customer, by churn risk (or another sort); CSV with format=csv (the export permission)",
      description:
        'JSON: the first `limit` predictions in `sort` order (ties by customer insertion order) and the `total`. `format=csv`: every prediction of the run as a file — customer_id,email,first_name,last_name,p_alive,churn_risk,expected_purchases,clv,expected_spend,next_order_date (money in major units of the store currency, empty where unknown). 404 before the first run.',
      request: { query: RunPredictionsQuery },
      responses: {
        200: {
          description: 'The predictions',
          content: {
            'application/json': {
              schema: z
                .object({
                  modelVersion: z.string(),
                  asOf: z.string(),
                  currency: z.string(),
                  total: z.number().int(),
                  sort: z.string(),
                  order: z.string(),
                  data: z.array(RunPrediction),
                })
                .openapi('ClvRunPredictions'),
            },
            'text/csv': { schema: z.string() },
          },
        },
      },
    }),
    async (c) => {
      const q = parseInput(RunPredictionsQuery, c.req.query(), 'query');
      if (q.format === 'json') return c.json((await latestRunPredictions(deps, q)).body);
      // The file is every customer's contact details at once: an export (agents read customers one by one).
      const role = c.get('principal')?.role;
      if (!role || !ROLE_PERMISSIONS[role].includes('export'))
        throw new AppError('forbidden', 'format=csv is an export: it needs the export permission', {
          where: { field: 'format' },
        });
      const { csv, filename } = await latestRunPredictionsCsv(deps, q);
      return c.body(csv, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${filename}"`,
      });
    },
  );
  app.get(
    '/v1/clv/predictions/:id',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/clv/predictions/{id}',
      tags,
      summary: 'Status and outcome of a CLV prediction job',
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: json(PredictJob, 'The job') },
    }),
    async (c) => {
      const id = Number(c.req.param('id'));
      const job = Number.isSafeInteger(id) ? await deps.jobs.get(id) : undefined;
      if (!job || job.kind !== 'clv-predict')
        throw new AppError('not_found', `no CLV prediction job ${c.req.param('id')}`);
      return c.json(view(job));
    },
  );
  app.get(
    '/v1/customers/:id/clv',
    documented(app, auth, 'customers:read', {
      method: 'get',
      path: '/v1/customers/{id}/clv',
      tags: ['customers', 'clv'],
      summary: "The customer's prediction from the latest CLV run",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: json(
          z.object({
            customerId: z.string(),
            modelVersion: z.string(),
            asOf: z.string(),
            horizon: z.number(),
            timeUnit: z.string(),
            expectedPurchases: z.number(),
            pAlive: z.number(),
            churnRisk: z.number().openapi({ description: '1 − pAlive' }),
            clvMinor: z
              .number()
              .nullable()
              .openapi({ description: 'minor units; null without a spend model' }),
            expectedSpendMinor: z.number().nullable().openapi({
              description: 'expected spend per future order, minor units; null without a spend model',
            }),
            nextOrderAt: z.string().nullable().openapi({
              description:
                'as-of plus the median time to the next order; null when it more likely never comes',
            }),
            currency: z.string(),
          }),
          'The prediction',
        ),
      },
    }),
    async (c) => {
      return c.json(await customerPrediction(deps, { id: c.req.param('id') }));
    },
  );
  app.post(
    '/v1/clv/fits',
    documented(app, auth, 'models:run', {
      method: 'post',
      path: '/v1/clv/fits',
      tags,
      summary: 'Fit a BTYD or spend model to the stored orders',
      description:
        'Same options and JSON as `retain clv fit --json` on the stored orders (nothing is stored). A data-sufficiency refusal is a 400 listing its reasons; `force: true` fits anyway.',
      request: { body: { required: true, content: { 'application/json': { schema: FitBody } } } },
      responses: { 200: json(FitResult, 'The fitted parameters') },
    }),
    async (c) => {
      const input = parseInput(FitInput, await c.req.json(), 'body', FitOptions);
      return c.json(fitJson(await fit(deps, input)));
    },
  );
  app.post(
    '/v1/clv/validations',
    documented(app, auth, 'models:run', {
      method: 'post',
      path: '/v1/clv/validations',
      tags,
      summary: 'Fit on a calibration period and compare with the holdout',
      description:
        'Same options and JSON as `retain clv validate --json` on the stored orders (nothing is stored).',
      request: { body: { required: true, content: { 'application/json': { schema: ValidateBody } } } },
      responses: {
        200: json(
          z.record(z.string(), z.unknown()).openapi({
            description:
              'model, params, holdoutDuration, customers, mae, rmse, correlation, totalActual, totalPredicted, totalErrorPct, byFrequency, sufficiency, seconds',
          }),
          'The validation report',
        ),
      },
    }),
    async (c) => {
      const input = parseInput(ValidateInput, await c.req.json(), 'body', ValidateOptions);
      return c.json(await validate(deps, input));
    },
  );
}
