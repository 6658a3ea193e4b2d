import { z } from '@hono/zod-openapi';
import type { BasketSource } from '../modules/basket/repository.js';
import { parseOptions, RecommendOptions } from '../modules/basket/schema.js';
import { runRecommend } from '../modules/basket/service.js';
import { getCustomer } from '../modules/customers/service.js';
import { loadBaskets, loadProducts } from '../modules/orders/repository.js';
import type { Auth } from './auth.js';
import type { RetainApp, ServerDeps } from './context.js';
import { documented, json } from './openapi.js';

/**
 * `retain recommend --customer` as `GET /v1/customers/{id}/recommendations`, on the server's own
 * store. It loads the order history per call (as the CLI does): fine for shops of the demo's size,
 * a cached model is the next step for large stores.
 */
export function registerRecommendRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const source: BasketSource = {
    loadBaskets: (opts) => loadBaskets(deps.db, opts),
    loadProducts: () => loadProducts(deps.db),
    close: async () => undefined, // the server's database stays open
  };
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
      const opts = parseOptions(RecommendOptions, { ...c.req.query(), customer: c.req.param('id') });
      await getCustomer(deps.db, opts.customer); // 404 for an unknown customer
      return c.json(await runRecommend(opts, { openSource: async () => source }));
    },
  );
}
