import { z } from '@hono/zod-openapi';
import {
  BundlesInput,
  FbtInput,
  ItemsetsInput,
  ItemsetsOptions,
  MAX_TOP_RULES,
  ProductSearchInput,
  RulesInput,
  RulesOptions,
  UpsellInput,
} from './schema.js';
import { bundles, fbt, itemsets, products, rules, upsell } from './service.js';
import type { Auth } from '../../kit/http/auth.js';
import { parseInput, queryFlag, queryOf } from '../../kit/http/input.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import type { ModuleContext } from '../../kit/context.js';
import { documented, json } from '../../kit/http/openapi.js';

export { MAX_TOP_RULES };

/** A query flag is the text `true` or `false`. */
const http = { defaultExclusions: queryFlag.default(true) };

/** A route's input schema (with the query coercions) and service, typed together. */
const route = <S extends z.ZodObject>(
  summary: string,
  query: S,
  service: (ctx: ModuleContext, input: z.infer<S>) => Promise<unknown>,
  command?: z.ZodObject,
  answer = '',
) => ({
  summary,
  query,
  answer,
  run: (raw: unknown, ctx: ModuleContext) => service(ctx, parseInput(query, raw, 'query', command)),
});

const ROUTES = {
  itemsets: route(
    'Frequent itemsets of the stored orders, counted by size',
    ItemsetsInput.extend(http),
    (ctx, i) => itemsets(ctx, i),
    ItemsetsOptions,
  ),
  rules: route(
    'Association rules A → C from the stored orders',
    RulesInput.extend(http),
    (ctx, i) => rules(ctx, i),
    RulesOptions,
    `\`rules\` is how many were found; \`top\` holds the strongest by lift (\`top\` of them, at most ${MAX_TOP_RULES}).`,
  ),
  bundles: route(
    'Bundle suggestions: pairs/triples with high lift, margin and a margin-safe discount',
    BundlesInput.extend(http),
    bundles,
  ),
  fbt: route(
    'Frequently bought together, per product (or for one `sku`)',
    FbtInput.extend(http),
    fbt,
    undefined,
    '`products` is how many products have companions; `fbt` lists the `top` most ordered.',
  ),
  upsell: route(
    'Upsell paths within a category, and the next product after a first purchase',
    UpsellInput.extend(http),
    upsell,
  ),
};

/**
 * `retain basket itemsets|rules|bundles|fbt|upsell` as `GET /v1/basket/<name>` on the stored orders, with the
 * same options (camelCase query names) and JSON. They answer when the mining is done (seconds on the
 * demo data); the mining runs on a worker thread (offload.ts), so the server keeps answering meanwhile.
 */
export function registerBasketRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.get(
    '/v1/basket/products',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/basket/products',
      tags: ['basket'],
      summary: 'Products of the stored orders by part of their name or SKU (to pick one for `fbt?sku=`)',
      description:
        'Case-insensitive match on the catalogue title (else the title as ordered) or the SKU; products ' +
        'customers ordered, most ordered first: `{products: [{sku, title, orders}]}`.',
      request: { query: ProductSearchInput },
      responses: { 200: json(z.record(z.string(), z.unknown()), 'The matching products') },
    }),
    async (c) =>
      c.json(await products(deps, parseInput(ProductSearchInput, queryOf(c.req.queries()), 'query'))),
  );
  for (const [name, r] of Object.entries(ROUTES)) {
    app.get(
      `/v1/basket/${name}`,
      documented(app, auth, 'reports:read', {
        method: 'get',
        path: `/v1/basket/${name}`,
        tags: ['basket'],
        summary: r.summary,
        description:
          `Same options and JSON as \`retain basket ${name} --json\` on the stored orders; ` +
          `excludeSku is comma-separated or repeated, \`defaultExclusions=false\` is \`--no-default-exclusions\`, ` +
          `since/until are ISO dates. Unknown and CLI-only parameters (format, input, out) are refused. ${r.answer}`,
        request: { query: r.query },
        responses: { 200: json(z.record(z.string(), z.unknown()), `The ${name} result`) },
      }),
      async (c) => {
        const result = await r.run(queryOf(c.req.queries()), deps);
        return c.json(result as Record<string, unknown>);
      },
    );
  }
}
