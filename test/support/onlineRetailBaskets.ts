/**
 * Test and benchmark loader for the shipped UCI Online Retail file (not used by the product: real
 * stores come through the orders repository). Orders are invoices not starting with C (cancellation)
 * or A (bad-debt adjustment) that carry a CustomerID; lines with Quantity > 0 and UnitPrice > 0.
 * Online Retail has no categories; `category` is the description's last word ("… T-LIGHT HOLDER" →
 * "HOLDER"), a crude product type good enough to exercise category logic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Basket, Product } from '../../src/analytics/basket/types.js';

/** Path of the Online Retail file shipped in the repository's data/ folder. */
export function onlineRetailPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    if (existsSync(join(dir, 'package.json'))) break;
    dir = dirname(dir);
  }
  return resolve(dir, 'data', 'online_retail.csv.gz');
}

/** Splits one CSV line (RFC 4180 quotes, "" escapes). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

export interface OnlineRetail {
  baskets: Basket[];
  products: Product[];
}

let cached: OnlineRetail | undefined;

/** Loads Online Retail orders (by invoice, in file order) and a derived catalogue. Cached per process. */
export function loadOnlineRetail(file = onlineRetailPath()): OnlineRetail {
  if (cached && file === onlineRetailPath()) return cached;
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const byInvoice = new Map<string, Basket>();
  const titles = new Map<string, Map<string, number>>();
  const prices = new Map<string, number[]>();
  let start = text.indexOf('\n') + 1;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    if (!line) continue;
    const [invoice, sku, description, quantityText, date, priceText, customer] = splitCsvLine(line);
    if (!invoice || !sku || !customer || invoice.startsWith('C') || invoice.startsWith('A')) continue;
    const quantity = Number(quantityText);
    const price = Number(priceText);
    if (!(quantity > 0 && price > 0)) continue;
    const unitPriceMinor = Math.round(price * 100);
    let basket = byInvoice.get(invoice);
    if (!basket) {
      basket = {
        orderId: invoice,
        customerId: customer.replace(/\.0$/, ''),
        orderedAt: new Date(date!.replace(' ', 'T') + 'Z'),
        items: [],
      };
      byInvoice.set(invoice, basket);
    }
    const title = (description ?? '').trim();
    basket.items.push({ sku, quantity, unitPriceMinor, title });
    const t = titles.get(sku) ?? new Map<string, number>();
    t.set(title, (t.get(title) ?? 0) + 1);
    titles.set(sku, t);
    const p = prices.get(sku) ?? [];
    p.push(unitPriceMinor);
    prices.set(sku, p);
  }
  const products: Product[] = [];
  for (const [sku, t] of titles) {
    const title = [...t].sort((a, b) => b[1] - a[1])[0]![0];
    const p = prices.get(sku)!.sort((a, b) => a - b);
    const words = title.split(/\s+/).filter((w) => /[A-Z]/i.test(w));
    const category = words.length > 0 ? words[words.length - 1]!.toUpperCase() : undefined;
    products.push({ sku, title, priceMinor: p[p.length >> 1]!, ...(category ? { category } : {}) });
  }
  const result = { baskets: [...byInvoice.values()], products };
  if (file === onlineRetailPath()) cached = result;
  return result;
}
