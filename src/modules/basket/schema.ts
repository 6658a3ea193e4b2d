import { z } from 'zod';
import { invalid } from '../../shared/errors.js';

/**
 * The basket and recommendation services' inputs (the routes parse them) and the commands' options
 * (the inputs plus files), validated at the boundary.
 */

const fraction = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .refine((v) => Number.isFinite(v) && v > 0 && v <= 1, { error: `${what} must be a fraction in (0, 1]` });

const unitInterval = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .refine((v) => Number.isFinite(v) && v >= 0 && v <= 1, { error: `${what} must be in [0, 1]` });

const positiveInt = (what: string) =>
  z.coerce
    .number({ error: `${what} must be a number` })
    .int(`${what} must be an integer`)
    .min(1, `${what} must be ≥ 1`);

const instant = z.coerce.date({ error: 'expected an ISO date such as 2011-12-09' });

const skuList = z.union([z.string(), z.array(z.string())]).transform((v) =>
  (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);

/** Which stored orders to mine: by SKU or category, without non-product lines, in a period. */
export const OrderSourceInput = z.object({
  by: z
    .enum(['sku', 'category'], { error: 'by must be sku or category' })
    .default('sku')
    .describe('mine by sku or category'),
  excludeSku: skuList.optional().describe('more non-product SKUs to exclude (comma or space separated)'),
  defaultExclusions: z
    .boolean()
    .default(true)
    .describe('exclude postage/fee lines (POST, DOT, M, BANK CHARGES, …); false keeps them'),
  since: instant.optional().describe('only orders at or after this date'),
  until: instant.optional().describe('only orders before this date'),
});
export type OrderSourceInput = z.infer<typeof OrderSourceInput>;

/** What a command line adds: baskets from a FIMI file instead of the stored orders. */
const fileSource = {
  format: z
    .enum(['fimi', 'orders'], { error: 'format must be fimi or orders' })
    .optional()
    .describe('fimi (a basket file) or orders (the imported orders); default: fimi when --input is given'),
  input: z
    .string()
    .min(1)
    .optional()
    .describe('FIMI file: one basket per line, space-separated integer item ids (.gz allowed)'),
};
const out = z.string().min(1).optional();

/** The services' inputs that work on products (SKUs) of the stored orders. */
const ProductSourceInput = OrderSourceInput.omit({ by: true });

/** `itemsets(ctx, input)`. */
export const ItemsetsInput = OrderSourceInput.extend({
  minSupport: fraction('minimum support').describe('minimum support as a fraction of baskets, in (0, 1]'),
  maxSize: positiveInt('maximum size').optional().describe('largest itemset size'),
  variant: z
    .enum(['all', 'closed', 'maximal'], { error: 'variant must be all, closed or maximal' })
    .default('all')
    .describe('all, closed or maximal itemsets'),
});
export type ItemsetsInput = z.infer<typeof ItemsetsInput>;

/** Largest `top` of the rules input: mining can find 100,000 rules on the demo data (`--out` has them all). */
export const MAX_TOP_RULES = 1000;
const rulesTop = z.coerce
  .number({ error: 'top must be a number' })
  .int({ error: 'top must be an integer' })
  .min(0, { error: 'top must be ≥ 0' });

/** `rules(ctx, input)`. */
const topRules = 'strongest rules (by lift) to include in the result';
export const RulesInput = OrderSourceInput.extend({
  minSupport: fraction('minimum support').describe('minimum support of A ∪ C, in (0, 1]'),
  minConfidence: unitInterval('minimum confidence').describe('minimum confidence, in [0, 1]'),
  maxConsequent: positiveInt('maximum consequent size').default(1).describe('largest consequent'),
  maxAntecedent: positiveInt('maximum antecedent size').optional().describe('largest antecedent'),
  maxSize: positiveInt('maximum size').optional().describe('largest A ∪ C'),
  minLift: z.coerce.number().nonnegative().optional().describe('minimum lift'),
  top: rulesTop
    .max(MAX_TOP_RULES, { error: `top must be ≤ ${MAX_TOP_RULES}` })
    .default(10)
    .describe(topRules),
});
export type RulesInput = z.infer<typeof RulesInput>;

/** `bundles(ctx, input)`. */
export const BundlesInput = ProductSourceInput.extend({
  minSupport: fraction('minimum support')
    .default(0.002)
    .describe('minimum share of orders containing the bundle'),
  minLift: z.coerce.number().nonnegative().default(2).describe('minimum lift'),
  maxSize: z.coerce
    .number()
    .int()
    .min(2)
    .max(3, 'bundles have 2 or 3 products')
    .default(3)
    .describe('2 (pairs) or 3 (pairs and triples)'),
  targetMargin: unitInterval('target margin').default(0.3).describe('margin the discounted bundle must keep'),
  maxDiscount: unitInterval('maximum discount').default(0.15).describe('largest discount to suggest'),
  costRatio: unitInterval('cost ratio')
    .optional()
    .describe('assumed cost/price for products without a unit cost'),
  top: positiveInt('top').default(20).describe('bundles to list'),
});
export type BundlesInput = z.infer<typeof BundlesInput>;

/** `fbt(ctx, input)`. */
export const FbtInput = ProductSourceInput.extend({
  sku: z.string().min(1).optional().describe('only this product'),
  n: positiveInt('n').default(5).describe('companions per product'),
  minCount: positiveInt('minimum co-purchase count').default(3).describe('orders a pair must share'),
  top: positiveInt('top').default(20).describe('products to list (most ordered first)'),
});
export type FbtInput = z.infer<typeof FbtInput>;

/** `products(ctx, input)`: the dashboard's product picker. */
export const ProductSearchInput = z.object({
  q: z
    .string()
    .trim()
    .min(1, 'q: type part of a product name or SKU')
    .max(100)
    .describe('part of a name or SKU'),
  limit: positiveInt('limit').max(50, 'limit must be ≤ 50').default(10).describe('products to list'),
});
export type ProductSearchInput = z.infer<typeof ProductSearchInput>;

/** `upsell(ctx, input)`. */
export const UpsellInput = ProductSourceInput.extend({
  minCustomers: positiveInt('minimum customers').default(3).describe('customers who must have made the move'),
  minPriceRatio: z.coerce
    .number()
    .min(1)
    .default(1.2)
    .describe('the upsell product costs at least x times more'),
  top: positiveInt('top').default(20).describe('rows to list'),
});
export type UpsellInput = z.infer<typeof UpsellInput>;

// ---- The commands' options: the inputs plus files (a FIMI `--input`, an NDJSON `--out`) ----

// The file source comes first, as the commands list it.
export const ItemsetsOptions = z.object({
  ...fileSource,
  ...ItemsetsInput.shape,
  out: out.describe('write every itemset as NDJSON {"items":[…],"count":n,"support":f}'),
});
export type ItemsetsOptions = z.infer<typeof ItemsetsOptions>;
/** On the command line `top` has no ceiling (the JSON lists them; `--out` writes every rule anyway). */
export const RulesOptions = z.object({
  ...fileSource,
  ...RulesInput.shape,
  top: rulesTop.default(10).describe(topRules),
  out: out.describe('write every rule as NDJSON'),
});
export type RulesOptions = z.infer<typeof RulesOptions>;
export const BundlesOptions = BundlesInput;
export const FbtOptions = FbtInput;
export const UpsellOptions = UpsellInput;

export const RecommendOptions = z.object({
  customer: z.string().min(1, 'customer id required'),
  n: positiveInt('n').default(10),
  asOf: instant.optional(),
  halfLifeDays: z.coerce.number().positive('half-life must be > 0 days').default(90),
  minRepeatRate: unitInterval('minimum repeat rate').default(0.1),
  excludeSku: skuList.optional(),
  defaultExclusions: z.boolean().default(true),
});
export type RecommendOptions = z.infer<typeof RecommendOptions>;

export const EvaluateOptions = z.object({
  k: positiveInt('k').default(10),
  halfLifeDays: z.coerce.number().positive('half-life must be > 0 days').default(90),
  minRepeatRate: unitInterval('minimum repeat rate').default(0.1),
  excludeSku: skuList.optional(),
  defaultExclusions: z.boolean().default(true),
  since: instant.optional(),
  until: instant.optional(),
});
export type EvaluateOptions = z.infer<typeof EvaluateOptions>;

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Parses raw commander options; the first problem becomes an AppError naming the flag. */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path[0];
  const field = typeof key === 'string' ? `--${kebab(key)}` : undefined;
  return fail(issue.message, field);
}

function fail(message: string, field: string | undefined): never {
  throw invalid(message, field ? { field } : undefined);
}
