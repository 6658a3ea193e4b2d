import type { Queryable, SqlValue } from '../../storage/port.js';

export interface ProductDbRow {
  sku: string;
  title: string | null;
  category: string | null;
  price_minor: number | null;
  unit_cost_minor: number | null;
  currency: string | null;
  updated_at: Date;
}

const COLUMNS = `sku, title, category, price_minor, unit_cost_minor, currency, updated_at`;

/** One page in sku order (keyset pagination). */
export async function listProducts(
  db: Queryable,
  f: { afterSku?: string; limit: number; category?: string },
): Promise<ProductDbRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (f.afterSku !== undefined) {
    params.push(f.afterSku);
    where.push(`sku > $${params.length}`);
  }
  if (f.category !== undefined) {
    params.push(f.category);
    where.push(`category = $${params.length}`);
  }
  params.push(f.limit);
  return db.query<ProductDbRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM products ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY sku LIMIT $${params.length}`,
    params,
  );
}

export async function productBySku(db: Queryable, sku: string): Promise<ProductDbRow | undefined> {
  const rows = await db.query<ProductDbRow & Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM products WHERE sku = $1`,
    [sku],
  );
  return rows[0];
}
