import type { BasketLine } from './types.js';

/**
 * Order lines that are not products — postage, fees, manual adjustments, vouchers — distort basket
 * analysis: POST sits in a quarter of Online Retail's invoices and would pair with everything.
 */

/** Online Retail (UCI) service codes: postage, carriage, fees, manual lines, discounts, samples, vouchers. */
export const DEFAULT_NON_PRODUCT_SKUS: readonly string[] = [
  'POST', // postage
  'DOT', // dotcom postage
  'C2', // carriage
  'M', // manual
  'D', // discount
  'S', // samples
  'B', // adjust bad debt
  'BANK CHARGES',
  'AMAZONFEE',
  'CRUK', // CRUK commission
  'PADS', // pads to match all cushions (a price adjustment line)
];

/** SKU patterns for generated non-product codes (gift vouchers `gift_0001_20`, …). */
export const DEFAULT_NON_PRODUCT_PATTERNS: readonly RegExp[] = [/^gift_/i];

/**
 * Titles that mark a fee or service line even under an unknown SKU. Each pattern must match the WHOLE
 * title (trimmed, spaces collapsed): a title that only contains a service word is a product
 * ("FRENCH CARRIAGE LANTERN", "BLACK BAROQUE CARRIAGE CLOCK", "POSTAGE STAMP TIN").
 */
export const DEFAULT_NON_PRODUCT_TITLES: readonly RegExp[] = [
  /^((next|same)[ -]day |express |standard |dotcom |international )?(postage|carriage|delivery|shipping)( charges?| costs?)?$/i,
  /^bank charges?$/i,
  /^amazon fees?$/i,
  /^manual$/i,
  /^discount$/i,
  /^(\S+ )?gift voucher( £?\d+(\.\d{2})?)?$/i,
];

export interface NonProductConfig {
  /** Exact SKUs (case-insensitive); replaces the defaults when given. */
  skus?: readonly string[];
  /** Extra SKUs added to the defaults. */
  extraSkus?: readonly string[];
  patterns?: readonly RegExp[];
  titles?: readonly RegExp[];
  /** Disable the title heuristics. */
  ignoreTitles?: boolean;
}

export type NonProductReason = 'sku' | 'pattern' | 'title';

/** Returns why a line is not a product, or null for a product. */
export function nonProductClassifier(
  config: NonProductConfig = {},
): (sku: string, title?: string) => NonProductReason | null {
  const skus = new Set(
    [...(config.skus ?? DEFAULT_NON_PRODUCT_SKUS), ...(config.extraSkus ?? [])].map((s) =>
      s.trim().toUpperCase(),
    ),
  );
  const patterns = config.patterns ?? DEFAULT_NON_PRODUCT_PATTERNS;
  const titles = config.ignoreTitles ? [] : (config.titles ?? DEFAULT_NON_PRODUCT_TITLES);
  return (sku, title) => {
    if (skus.has(sku.trim().toUpperCase())) return 'sku';
    if (patterns.some((p) => p.test(sku))) return 'pattern';
    if (title !== undefined) {
      const whole = title.trim().replace(/\s+/g, ' ');
      if (titles.some((p) => p.test(whole))) return 'title';
    }
    return null;
  };
}

export interface NonProductFinding {
  sku: string;
  reason: NonProductReason;
  lines: number;
  title?: string;
}

/** Lists the non-product SKUs present in the given lines, most frequent first (for reports). */
export function detectNonProductLines(
  lines: Iterable<BasketLine>,
  config: NonProductConfig = {},
): NonProductFinding[] {
  const classify = nonProductClassifier(config);
  const found = new Map<string, NonProductFinding>();
  for (const line of lines) {
    const hit = found.get(line.sku);
    if (hit) {
      hit.lines++;
      continue;
    }
    const reason = classify(line.sku, line.title);
    if (reason)
      found.set(line.sku, { sku: line.sku, reason, lines: 1, ...(line.title ? { title: line.title } : {}) });
  }
  return [...found.values()].sort((a, b) => b.lines - a.lines || a.sku.localeCompare(b.sku));
}
