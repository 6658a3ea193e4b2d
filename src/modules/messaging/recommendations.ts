import type { ModuleContext } from '../../kit/context.js';
import { formatMinor, minorDigits } from '../../shared/money.js';
import { AppError } from '../../shared/errors.js';
import { recommend } from '../basket/service.js';
import { productBySku, type ProductDbRow } from '../products/repository.js';
import type { CompiledTemplate } from './templateSchema.js';
import { formatMoney } from './templates.js';

/** Products a message shows in its `recommendations` block (docs/messaging.md#templates). */
export const RECOMMENDED_IN_A_MESSAGE = 3;

/** One recommended product as a template sees it. */
export type RecommendedProduct = {
  sku: string;
  title: string;
  /** The store's price in minor units, or null when the product file has none. */
  price_minor: number | null;
  /** The price written for the contact's locale in the store's currency (`€12.50`), or null. */
  price: string | null;
  /** The title of the product that led to this one ("because you bought …"), when one did. */
  because_of: string | null;
};

/**
 * Whether a template uses the `recommendations` variable: only then does a send ask the recommender
 * (one look-up per recipient). A word match over the compiled parts; a mention in a comment only
 * costs that look-up.
 */
export function mentionsRecommendations(t: CompiledTemplate): boolean {
  let known = mentions.get(t.key);
  if (known === undefined) {
    known = /\brecommendations\b/.test(JSON.stringify(t.variants));
    if (mentions.size > 1000) mentions.clear();
    mentions.set(t.key, known);
  }
  return known;
}
const mentions = new Map<string, boolean>();

/**
 * The recommender's top products for one customer (the kept model of the basket module, as
 * `GET /v1/customers/{id}/recommendations` answers), with the store's prices. A customer without
 * product orders, or a store without any, gets an empty list: the template's `{% for %}` renders
 * nothing and the message still goes.
 */
export async function recommendationsFor(
  ctx: ModuleContext,
  customer: string,
  {
    locale,
    currency,
    n = RECOMMENDED_IN_A_MESSAGE,
    products = new Map(),
  }: {
    locale: string;
    currency: string | null;
    n?: number;
    /** Products already read (a delivery run reads each recommended product once). */
    products?: Map<string, ProductDbRow | undefined>;
  },
): Promise<RecommendedProduct[]> {
  let found;
  try {
    found = await recommend(ctx, {
      customer,
      n,
      halfLifeDays: 90,
      minRepeatRate: 0.1,
      defaultExclusions: true,
    });
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found') return [];
    throw err;
  }
  const product = async (sku: string) => {
    if (!products.has(sku)) products.set(sku, await productBySku(ctx.db, sku));
    return products.get(sku);
  };
  const out: RecommendedProduct[] = [];
  for (const r of found.recommendations) {
    const item = await product(r.sku);
    const priced = item?.price_minor ?? null;
    const cur = item?.currency ?? currency ?? null;
    out.push({
      sku: r.sku,
      title: r.title,
      price_minor: priced,
      price: priced === null ? null : money(priced, cur, locale),
      because_of:
        r.becauseOf === undefined ? null : ((await productBySku(ctx.db, r.becauseOf))?.title ?? r.becauseOf),
    });
  }
  return out;
}

function money(minor: number, currency: string | null, locale: string): string {
  if (currency === null) return formatMinor(minor);
  try {
    return formatMoney(minor, currency, locale);
  } catch {
    // A locale Intl does not know: the amount and the code.
    return `${formatMinor(minor, minorDigits(currency))} ${currency}`;
  }
}
