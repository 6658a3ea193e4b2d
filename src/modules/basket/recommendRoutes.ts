import { z } from '@hono/zod-openapi';
import { EvaluateOptions, RecommendOptions } from './schema.js';
import { evaluate, modelInfo, recommend, trainModel } from './service.js';
import { getCustomer } from '../customers/service.js';
import type { Auth } from '../../kit/http/auth.js';
import { parseInput, queryFlag, queryOf } from '../../kit/http/input.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';
import { AppError, invalid } from '../../shared/errors.js';

const TrainBody = z.object({
  ifStale: z
    .boolean()
    .default(false)
    .openapi({ description: 'only when orders changed since the last model' }),
});

const Evaluate = EvaluateOptions.extend({ defaultExclusions: queryFlag.default(true) });
const Recommend = RecommendOptions.extend({ defaultExclusions: queryFlag.default(true) });

const ModelDoc = z
  .object({
    version: z.number().int(),
    trainedAt: z.string(),
    reason: z.string().openapi({ description: 'job, on-demand, cli or api' }),
    orders: z.number().int(),
    customers: z.number().int(),
    items: z.number().int(),
    neighbours: z.number().int(),
    lastOrderAt: z.string().nullable(),
    seconds: z.number(),
    upToDate: z.boolean().openapi({ description: 'trained on the orders, refunds and catalogue stored now' }),
  })
  .openapi('RecommendationModel');

/**
 * `retain recommend --customer` as `GET /v1/customers/{id}/recommendations` and `retain recommend
 * evaluate` as `GET /v1/recommendations/evaluation`, on the server's own store.
 */
export function registerRecommendRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.get(
    '/v1/customers/:id/recommendations',
    documented(app, auth, 'commerce:read', {
      method: 'get',
      path: '/v1/customers/{id}/recommendations',
      tags: ['customers'],
      summary: 'Explainable product recommendations for a customer',
      description:
        'Same options and JSON as `retain recommend --customer <id> --json`: the customer’s history scored ' +
        'against the kept model (`model` names its version and training time). Before the first model ' +
        'the call trains one (seconds); afterwards the model is retrained in the background when orders ' +
        'change, and `POST /v1/recommendations/model` retrains it now. `asOf` before the model’s last ' +
        'order, or non-default exclusions, train a model for the request (seconds, `model.version` null).',
      request: {
        params: z.object({ id: z.string() }),
        query: z.object({
          n: z.string().optional().openapi({ description: 'how many (default 10)' }),
          asOf: z.string().optional().openapi({ description: 'ISO instant; history after it is ignored' }),
          halfLifeDays: z.string().optional(),
          minRepeatRate: z.string().optional(),
          excludeSku: z.string().optional().openapi({ description: 'comma-separated SKUs' }),
          defaultExclusions: z.string().optional().openapi({ description: 'false: keep postage/fee lines' }),
        }),
      },
      responses: { 200: json(z.record(z.string(), z.unknown()), 'The recommendations with their reasons') },
    }),
    async (c) => {
      const opts = parseInput(Recommend, { ...c.req.query(), customer: c.req.param('id') }, 'query');
      try {
        return c.json(await recommend(deps, opts));
      } catch (err) {
        // No product orders: say so, unless the customer does not exist at all (its own 404).
        if (err instanceof AppError && err.code === 'not_found')
          await getCustomer(deps, { id: opts.customer });
        throw err;
      }
    },
  );
  app.get(
    '/v1/recommendations/evaluation',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/recommendations/evaluation',
      tags: ['reports'],
      summary: 'Offline evaluation of the recommenders (Recall/NDCG/PHR@k, last basket held out)',
      description:
        'Same options and JSON as `retain recommend evaluate --json` on the stored orders; excludeSku is ' +
        'comma-separated or repeated, `defaultExclusions=false` is `--no-default-exclusions`. Takes seconds ' +
        'on a shop of the demo’s size (every customer is scored by four methods).',
      request: { query: Evaluate },
      responses: {
        200: json(
          z.record(z.string(), z.unknown()).openapi({
            description: 'k, customers, skipped, heldOutProducts, methods{recall, ndcg, phr}, best, seconds',
          }),
          'The evaluation report',
        ),
      },
    }),
    async (c) => {
      const opts = parseInput(Evaluate, queryOf(c.req.queries()), 'query');
      return c.json(await evaluate(deps, opts));
    },
  );
  app.get(
    '/v1/recommendations/model',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/recommendations/model',
      tags: ['reports'],
      summary: 'The kept recommendation model: version, when and from what it was trained',
      description: 'Same JSON as `retain recommend train --json`. 404 before the first training.',
      responses: { 200: json(ModelDoc, 'The model in use') },
    }),
    async (c) => {
      const info = await modelInfo(deps);
      if (!info)
        throw new AppError(
          'not_found',
          'no recommendation model yet: POST /v1/recommendations/model trains one',
        );
      return c.json(info);
    },
  );
  app.post(
    '/v1/recommendations/model',
    documented(app, auth, 'models:run', {
      method: 'post',
      path: '/v1/recommendations/model',
      tags: ['reports'],
      summary: 'Retrain the recommendation model from the stored orders now',
      description:
        'Same as `retain recommend train --json`: trains on a worker thread (the server keeps answering), ' +
        'stores the model in one transaction and answers it; recommendations use it from then on. ' +
        '`{"ifStale": true}` skips the training when the model is up to date.',
      request: {
        body: {
          required: false,
          content: { 'application/json': { schema: TrainBody } },
        },
      },
      responses: { 200: json(ModelDoc, 'The new (or, with ifStale, the up-to-date) model') },
    }),
    async (c) => {
      const text = await c.req.text();
      let raw: unknown = {};
      if (text.trim() !== '') {
        try {
          raw = JSON.parse(text);
        } catch {
          throw invalid('the body must be JSON, e.g. {"ifStale": true}', { field: 'body' });
        }
      }
      const body = parseInput(TrainBody, raw, 'body');
      return c.json(await trainModel(deps, { reason: 'api', ifStale: body.ifStale }));
    },
  );
}
