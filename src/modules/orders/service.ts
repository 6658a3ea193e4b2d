import type { ModuleContext } from '../../kit/context.js';
import type { z } from '@hono/zod-openapi';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { issuesOf, validationError, type Issue } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { OrderLineInput, RefundInput, type OrderLineRow } from '../imports/schema.js';
import { cleanInput, mergeRows, withStoreCurrency } from '../ingest/service.js';
import * as repo from './repository.js';
import {
  LINE_FIELDS,
  ORDER_FIELDS,
  OrderEnvelope,
  type Order,
  type OrderDetail,
  type OrderListQuery,
} from './schema.js';

const toOrder = (r: repo.OrderDbRow): z.infer<typeof Order> => ({
  id: r.external_id,
  customerId: r.customer_ext,
  orderedAt: r.ordered_at.toISOString(),
  currency: r.currency,
  subtotalMinor: r.subtotal_minor,
  discountMinor: r.discount_minor,
  shippingMinor: r.shipping_minor,
  taxMinor: r.tax_minor,
  totalMinor: r.total_minor,
  channel: r.channel,
  source: r.source,
  status: r.status,
  lineCount: r.line_count,
});

const isId = (v: unknown): v is { id: number } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as { id?: unknown }).id);

export async function listOrders({ db }: ModuleContext, q: OrderListQuery) {
  const after = decodeCursor(q.cursor, isId);
  if (q.cursor && !after) throw new AppError('validation', 'invalid cursor', { where: { field: 'cursor' } });
  const rows = await repo.listOrders(db, {
    limit: q.limit + 1,
    ...(after ? { afterId: after.id } : {}),
    ...(q.customerId ? { customerId: q.customerId } : {}),
    ...(q.status ? { status: q.status } : {}),
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(q.to ? { to: new Date(q.to) } : {}),
  });
  const pageRows = rows.slice(0, q.limit);
  const last = pageRows[pageRows.length - 1];
  return {
    data: pageRows.map(toOrder),
    nextCursor: rows.length > q.limit && last ? encodeCursor({ id: last.order_id }) : null,
  };
}

export async function getOrder(
  { db }: ModuleContext,
  { id }: { id: string },
): Promise<z.infer<typeof OrderDetail>> {
  const r = await repo.orderByExternalId(db, id);
  if (!r) throw new AppError('not_found', `no order with id ${id}`, { where: { field: 'id' } });
  const [lines, refunds] = await Promise.all([
    repo.orderLines(db, r.order_id),
    repo.orderRefunds(db, r.order_id),
  ]);
  return {
    ...toOrder(r),
    lines: lines.map((l) => ({
      lineNo: l.line_no,
      sku: l.sku,
      title: l.title,
      quantity: l.quantity,
      unitPriceMinor: l.unit_price_minor,
      lineTotalMinor: l.line_total_minor,
    })),
    refunds: refunds.map((f) => ({
      id: f.external_id,
      amountMinor: f.amount_minor,
      currency: f.currency,
      refundedAt: f.refunded_at.toISOString(),
      reason: f.reason,
    })),
  };
}

/**
 * Validates an order (order columns + `lines`) as the importer's rows: every line becomes one
 * `OrderLineInput` row carrying the order's columns. Issues name `lines.<i>.<field>` or the order field.
 */
export function orderRows(body: unknown): OrderLineRow[] {
  const env = OrderEnvelope.safeParse(body);
  if (!env.success) throw validationError(env.error, 'order');
  const raw = env.data as Record<string, unknown>;
  const order = Object.fromEntries(ORDER_FIELDS.filter((f) => f in raw).map((f) => [f, raw[f]]));
  const unknown = Object.keys(raw).filter(
    (k) => k !== 'lines' && !(ORDER_FIELDS as readonly string[]).includes(k),
  );
  const issues: Issue[] = unknown.map((k) => ({ path: k, message: 'is not an order field' }));
  const lines = env.data.lines ?? [];
  const flat = lines.length
    ? lines.map((l) => ({
        ...order,
        ...Object.fromEntries(LINE_FIELDS.filter((f) => f in l).map((f) => [f, l[f]])),
      }))
    : [order];
  const rows: OrderLineRow[] = [];
  const seen = new Set<string>();
  flat.forEach((row, i) => {
    const p = OrderLineInput.safeParse(cleanInput(row));
    if (p.success) return rows.push(p.data);
    for (const issue of issuesOf(p.error)) {
      const field = issue.path.split('.')[0] ?? '';
      const path =
        (LINE_FIELDS as readonly string[]).includes(field) && lines.length
          ? `lines.${i}.${issue.path}`
          : issue.path;
      if (!seen.has(path)) issues.push({ ...issue, path });
      seen.add(path);
    }
  });
  if (issues.length) {
    const first = issues[0] as Issue;
    throw new AppError('validation', `invalid order: ${first.path}: ${first.message}`, {
      details: { issues },
      where: { field: first.path },
    });
  }
  return rows;
}

/** Upserts one order by its external id through the importer's merge (a replay changes nothing). */
export async function upsertOrder(ctx: ModuleContext, { body }: { body: unknown }) {
  const { db } = ctx;
  const now = ctx.clock.now();
  const rows = orderRows(await withStoreCurrency(db, body));
  const out = await mergeRows(db, { entity: 'orders', rows }, now);
  const id = (rows[0] as OrderLineRow).orderId;
  return { order: await getOrder(ctx, { id }), created: out.inserted > 0, updated: out.updated > 0 };
}

export async function upsertRefund(ctx: ModuleContext, { body }: { body: unknown }) {
  const { db } = ctx;
  const now = ctx.clock.now();
  const p = RefundInput.safeParse(cleanInput(await withStoreCurrency(db, body)));
  if (!p.success) throw validationError(p.error, 'refund');
  const out = await mergeRows(db, { entity: 'refunds', rows: [p.data] }, now);
  return {
    refundId: p.data.refundId,
    inserted: out.inserted,
    updated: out.updated,
    unchanged: out.unchanged,
  };
}
