import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { parseOptions, PredictOptions } from '../modules/clv/schema.js';
import { customerPrediction } from '../modules/customers/service.js';
import type { Job } from '../modules/jobs/schema.js';
import { AppError } from '../shared/errors.js';
import type { Auth } from './auth.js';
import type { RetainApp, ServerDeps } from './context.js';
import { documented, json } from './openapi.js';

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

/** CLV over HTTP: predictions run as jobs on the server's store; a customer's latest prediction. */
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
      if (raw && typeof raw === 'object' && ('summary' in raw || 'out' in raw))
        throw new AppError('validation', 'summary and out are CLI-only options', {
          where: { field: 'summary' },
        });
      parseOptions(PredictOptions, raw); // validate now, run later
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
            clvMinor: z
              .number()
              .nullable()
              .openapi({ description: 'minor units; null without a spend model' }),
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
}
