import type { z } from '@hono/zod-openapi';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import type { ModuleContext } from '../../kit/context.js';
import { ProductInput } from '../imports/schema.js';
import { mergeRows, parseJsonBody, withStoreCurrency } from '../ingest/service.js';
import * as repo from './repository.js';
import type { Product, ProductListQuery } from './schema.js';

const toProduct = (r: repo.ProductDbRow): z.infer<typeof Product> => ({
  sku: r.sku,
  title: r.title,
  category: r.category,
  priceMinor: r.price_minor,
  unitCostMinor: r.unit_cost_minor,
  currency: r.currency,
  updatedAt: r.updated_at.toISOString(),
});

const isSku = (v: unknown): v is { sku: string } =>
  typeof v === 'object' && v !== null && typeof (v as { sku?: unknown }).sku === 'string';

/** One page of the catalogue in SKU order. */
export async function listProducts({ db }: ModuleContext, q: z.infer<typeof ProductListQuery>) {
  const after = decodeCursor(q.cursor, isSku);
  if (q.cursor && !after) throw new AppError('validation', 'invalid cursor', { where: { field: 'cursor' } });
  const rows = await repo.listProducts(db, {
    limit: q.limit + 1,
    ...(after ? { afterSku: after.sku } : {}),
    ...(q.category ? { category: q.category } : {}),
  });
  const pageRows = rows.slice(0, q.limit);
  const last = pageRows[pageRows.length - 1];
  return {
    data: pageRows.map(toProduct),
    nextCursor: rows.length > q.limit && last ? encodeCursor({ sku: last.sku }) : null,
  };
}

export async function getProduct({ db }: ModuleContext, { sku }: { sku: string }) {
  const r = await repo.productBySku(db, sku);
  if (!r) throw new AppError('not_found', `no product with sku ${sku}`, { where: { field: 'sku' } });
  return toProduct(r);
}

/** Creates or replaces the product with this SKU (import columns; the path's SKU wins). */
export async function upsertProduct(ctx: ModuleContext, { sku, body }: { sku: string; body: unknown }) {
  const raw = await withStoreCurrency(ctx.db, body);
  const product = parseJsonBody(
    ProductInput,
    typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...raw, sku } : raw,
    'product',
  );
  const out = await mergeRows(ctx.db, { entity: 'products', rows: [product] }, ctx.clock.now());
  return { product: await getProduct(ctx, { sku }), created: out.inserted > 0 };
}
