import { z } from '@hono/zod-openapi';
import { BundlesOptions, FbtOptions, ItemsetsOptions, RulesOptions, UpsellOptions } from './schema.js';
import { runBundles, runFbt, runItemsets, runRules, runUpsell, type BasketDeps } from './service.js';
import type { Auth } from '../../kit/http/auth.js';
import { parseCliOptions, queryFlag, queryOf } from '../../kit/http/options.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';
import { basketSourceOn } from './serverSource.js';

/** Largest `top` of the rules route: mining can find 100,000 rules on the demo data. */
export const MAX_TOP_RULES = 1000;

const FROM_ORDERS = 'the API always mines the stored orders (format orders); FIMI files are CLI-only';
const CLI_ONLY = {
  format: FROM_ORDERS,
  input: FROM_ORDERS,
  out: 'it writes a file on the server; the answer is the command’s --json document',
};
const http = { defaultExclusions: queryFlag.default(true) };
const FILES = { format: true, input: true } as const;

const Itemsets = ItemsetsOptions.omit({ ...FILES, out: true }).extend(http);
const Rules = RulesOptions.omit({ ...FILES, out: true }).extend({
  ...http,
  top: z.coerce
    .number({ error: 'top must be a number' })
    .int({ error: 'top must be an integer' })
    .min(0, { error: 'top must be ≥ 0' })
    .max(MAX_TOP_RULES, { error: `top must be ≤ ${MAX_TOP_RULES}` })
    .default(10),
});
// The CLI offers `--by` for itemsets and rules only: bundles, fbt and upsell work on SKUs (their
// schemas carry the shared `by` with its default, which the handlers below pass).
const Bundles = BundlesOptions.omit({ ...FILES, by: true }).extend(http);
const Fbt = FbtOptions.omit({ ...FILES, by: true }).extend(http);
const Upsell = UpsellOptions.omit({ ...FILES, by: true }).extend(http);

/** A route's options and service, typed together; `run` takes the raw query and validates it. */
const route = <S extends z.ZodObject>(
  summary: string,
  query: S,
  service: (opts: z.infer<S>, deps: BasketDeps) => Promise<unknown>,
  answer = '',
) => ({
  summary,
  query,
  answer,
  run: (raw: unknown, d: BasketDeps) => service(parseCliOptions(query, raw, 'query', CLI_ONLY), d),
});

const ROUTES = {
  itemsets: route('Frequent itemsets of the stored orders, counted by size', Itemsets, runItemsets),
  rules: route(
    'Association rules A → C from the stored orders',
    Rules,
    runRules,
    `\`rules\` is how many were found; \`top\` holds the strongest by lift (\`top\` of them, at most ${MAX_TOP_RULES}).`,
  ),
  bundles: route(
    'Bundle suggestions: pairs/triples with high lift, margin and a margin-safe discount',
    Bundles,
    (o, d) => runBundles({ ...o, by: 'sku' }, d),
  ),
  fbt: route(
    'Frequently bought together, per product (or for one `sku`)',
    Fbt,
    (o, d) => runFbt({ ...o, by: 'sku' }, d),
    '`products` is how many products have companions; `fbt` lists the `top` most ordered.',
  ),
  upsell: route(
    'Upsell paths within a category, and the next product after a first purchase',
    Upsell,
    (o, d) => runUpsell({ ...o, by: 'sku' }, d),
  ),
};

/**
 * `retain basket itemsets|rules|bundles|fbt|upsell` as `GET /v1/basket/<name>` on the stored orders, with the
 * same options (camelCase query names) and JSON. They answer synchronously: a few seconds on the demo
 * data, most of it reading the order lines.
 */
export function registerBasketRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const source = basketSourceOn(deps.db);
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
        const result = await r.run(queryOf(c.req.queries()), { openSource: async () => source });
        return c.json(result as Record<string, unknown>);
      },
    );
  }
}
