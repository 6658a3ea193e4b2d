import { z } from '@hono/zod-openapi';
import { EvaluateOptions, RecommendOptions } from './schema.js';
import { evaluate, recommend } from './service.js';
import { getCustomer } from '../customers/service.js';
import type { Auth } from '../../kit/http/auth.js';
import { parseInput, queryFlag, queryOf } from '../../kit/http/input.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';

const Evaluate = EvaluateOptions.extend({ defaultExclusions: queryFlag.default(true) });

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
      description: 'Same options and JSON as `retain recommend --customer <id> --json`.',
      request: {
        params: z.object({ id: z.string() }),
        query: z.object({
          n: z.string().optional().openapi({ description: 'how many (default 10)' }),
          asOf: z.string().optional().openapi({ description: 'ISO instant; history after it is ignored' }),
          halfLifeDays: z.string().optional(),
          minRepeatRate: z.string().optional(),
          excludeSku: z.string().optional().openapi({ description: 'comma-separated SKUs' }),
        }),
      },
      responses: { 200: json(z.record(z.string(), z.unknown()), 'The recommendations with their reasons') },
    }),
    async (c) => {
      const opts = parseInput(RecommendOptions, { ...c.req.query(), customer: c.req.param('id') }, 'query');
      await getCustomer(deps, { id: opts.customer }); // 404 for an unknown customer
      return c.json(await recommend(deps, opts));
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
}
