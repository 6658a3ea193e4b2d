import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { loadSales } from './repository.js';
import { FitOptions, ORDER_MODELS, PredictOptions, ValidateOptions } from './schema.js';
import { fitJson, runFit, runValidate, type ClvDeps } from './service.js';
import { customerPrediction } from '../customers/service.js';
import type { Job } from '../jobs/schema.js';
import { AppError } from '../../shared/errors.js';
import type { Auth } from '../../kit/http/auth.js';
import { parseCliOptions } from '../../kit/http/options.js';
import type { AppEnv, RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';

const PredictBody = z
  .object({
    calibrationEnd: z.string().openapi({ description: 'last calibration day YYYY-MM-DD' }),
    horizon: z.number().openapi({ description: 'prediction horizon in time units' }),
    timeUnit: z.enum(['day', 'week']).optional(),
    model: z.string().optional().openapi({ description: 'bgnbd (default), pareto-nbd or mbgnbd' }),
    clvMonths: z.number().optional(),
    discountRate: z.number().optional(),
    margin: z.number().optional(),
    force: z.boolean().optional(),
  })
  .openapi('ClvPredict');

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

// `.describe`, not `.openapi`: these schemas come from the CLV module, which may load before the OpenAPI extension.
const day = (what: string) => `${what} YYYY-MM-DD`;
const CLI_ONLY = { summary: 'it reads a summary file on the server; the API works from the stored orders' };

/** `retain clv fit` options on the stored orders: a calibration end is needed, sBG (a survivor-curve file) is not offered. */
const FitBody = FitOptions.omit({ summary: true })
  .extend({
    model: z.enum(ORDER_MODELS, {
      error: `model must be one of ${ORDER_MODELS.join(', ')} (sbg fits a survivor-curve file: CLI only)`,
    }),
    calibrationEnd: FitOptions.shape.calibrationEnd.unwrap().describe(day('last calibration day')),
  })
  .openapi('ClvFit');

const FitResult = z
  .object({
    model: z.enum(ORDER_MODELS),
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

/** `retain clv validate` options on the stored orders: both period ends are needed. */
const ValidateBody = ValidateOptions.omit({ summary: true })
  .extend({
    calibrationEnd: ValidateOptions.shape.calibrationEnd.unwrap().describe(day('last calibration day')),
    holdoutEnd: ValidateOptions.shape.holdoutEnd.unwrap().describe(day('last holdout day')),
  })
  .refine((b) => b.holdoutEnd > b.calibrationEnd, {
    path: ['holdoutEnd'],
    error: 'holdoutEnd must be after calibrationEnd',
  })
  .openapi('ClvValidate');

/** The CLV service's storage on the server's database; its warnings go to the request log. */
const clvDepsOf = (deps: ServerDeps, c: Context<AppEnv>): ClvDeps => ({
  target: {},
  log: (message) => c.get('log').info({ clv: message }, 'clv'),
  loadOrders: ({ until }) => loadSales(deps.db, until),
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
        'Same options as `retain clv predict` (calibrated on stored orders); predictions are stored per customer.',
      request: { body: { required: true, content: { 'application/json': { schema: PredictBody } } } },
      responses: { 202: json(PredictJob, 'Queued') },
    }),
    async (c) => {
      const raw = (await c.req.json()) as Record<string, unknown>;
      // Validate now (API names and error shape), run later with the CLI's parser in the job.
      parseCliOptions(PredictOptions.omit({ summary: true, out: true, details: true }), raw, 'body', {
        summary: 'the API predicts from the stored orders',
        out: 'predictions are stored per customer; read them with GET /v1/customers/{id}/clv',
        details: 'stored predictions always carry the details; read them with GET /v1/customers/{id}/clv',
      });
      const key = c.req.header('idempotency-key') ?? `clv-predict:${randomUUID()}`;
      const { job } = await deps.jobs.enqueue('clv-predict', raw, { idempotencyKey: key, maxAttempts: 2 });
      c.header('Location', `/v1/clv/predictions/${job.jobId}`);
      return c.json(view(job), 202);
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
      return c.json(await customerPrediction(deps.db, c.req.param('id')));
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
      const opts = parseCliOptions(FitBody, await c.req.json(), 'body', CLI_ONLY);
      return c.json(fitJson(await runFit(opts, clvDepsOf(deps, c))));
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
      const opts = parseCliOptions(ValidateBody, await c.req.json(), 'body', CLI_ONLY);
      return c.json(await runValidate(opts, clvDepsOf(deps, c)));
    },
  );
}
