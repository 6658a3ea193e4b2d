import type { Basket, BasketLine, Product } from '../../analytics/basket/types.js';
import { AppError } from '../../shared/errors.js';
import type { PackedBasketRow } from '../orders/repository.js';

/**
 * The stored orders on their way to a mining worker: one entry per order, its lines still packed as
 * the repository returned them (orders/repository.ts `loadPackedBaskets`). The numeric columns are
 * typed arrays (transferred, not copied); the texts are cloned. `unpackOrderRows` turns them into
 * the baskets `loadBaskets` returns, on whichever thread does the mining.
 */
export interface OrderRows {
  orderIds: string[];
  customerIds: string[];
  /** The customers' internal ids. */
  customerKeys: Float64Array;
  /** Order time, ms since the epoch (UTC). */
  at: Float64Array;
  /** Lines per order, as counted by the database. */
  lines: Int32Array;
  packed: string[];
}

const LINE = '\u001f';
const SAME_AS_CATALOGUE = '\u0002';
const FIELD = '\u001e';

/** Columns of the repository's rows, and the buffers a worker message can transfer. */
export function orderRowsOf(rows: readonly PackedBasketRow[]): { rows: OrderRows; transfer: ArrayBuffer[] } {
  const n = rows.length;
  const out: OrderRows = {
    orderIds: new Array<string>(n),
    customerIds: new Array<string>(n),
    customerKeys: new Float64Array(n),
    at: new Float64Array(n),
    lines: new Int32Array(n),
    packed: new Array<string>(n),
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    out.orderIds[i] = r.order_ext;
    out.customerIds[i] = r.customer_ext;
    out.customerKeys[i] = r.customer_key;
    out.at[i] = r.ordered_at.getTime();
    out.lines[i] = r.lines;
    out.packed[i] = r.packed;
  }
  const transfer = [out.customerKeys, out.at, out.lines].map((a) => a.buffer as ArrayBuffer);
  return { rows: out, transfer };
}

/**
 * The baskets of the packed orders, lines in line order (as `loadBaskets` returns them); a line
 * whose title is the catalogue's (sent as U+0002) gets it from `products`.
 */
export function unpackOrderRows(rows: OrderRows, products: readonly Product[]): Basket[] {
  const catalogueTitle = new Map<string, string>();
  for (const p of products) if (p.title) catalogueTitle.set(p.sku, p.title);
  const baskets: Basket[] = new Array(rows.orderIds.length);
  for (let i = 0; i < baskets.length; i++) {
    const orderId = rows.orderIds[i]!;
    const parts = rows.packed[i]!.split(LINE);
    if (parts.length !== rows.lines[i]) throw separatorInData(orderId);
    const numbered: [number, BasketLine][] = parts.map((p) => {
      const f = p.split(FIELD);
      const lineNo = Number(f[0]);
      const quantity = Number(f[2]);
      const unitPriceMinor = Number(f[3]);
      if (
        f.length < 5 ||
        !Number.isInteger(lineNo) ||
        !Number.isInteger(quantity) ||
        !Number.isInteger(unitPriceMinor)
      )
        throw separatorInData(orderId);
      // A title may itself hold the field separator: it is the last field, so the rest is the title.
      const sku = f[1]!;
      const sent = f.length === 5 ? f[4]! : f.slice(4).join(FIELD);
      const title = sent === SAME_AS_CATALOGUE ? catalogueTitle.get(sku) : sent;
      return [lineNo, { sku, quantity, unitPriceMinor, ...(title ? { title } : {}) }];
    });
    numbered.sort((a, b) => a[0] - b[0]);
    baskets[i] = {
      orderId,
      customerId: rows.customerIds[i]!,
      orderedAt: new Date(rows.at[i]!),
      items: numbered.map((x) => x[1]),
    };
  }
  return baskets;
}

function separatorInData(orderId: string): AppError {
  return new AppError(
    'internal',
    `order ${orderId}: a line's SKU or title holds the control character U+001E or U+001F, which the basket loader uses as a separator; correct the line and import it again`,
    { where: { field: 'sku' } },
  );
}
