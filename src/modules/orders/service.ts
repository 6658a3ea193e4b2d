import type { ModuleContext } from '../../kit/context.js';
import type { z } from '@hono/zod-openapi';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { validationError, type Issue } from '../../kit/http/errors.js';
import { AppError } from '../../shared/errors.js';
import { formatMinor, minorDigits } from '../../shared/money.js';
import { ORDER_STATUSES, OrderLineInput, RefundInput, type OrderLineRow } from '../imports/schema.js';
import type { Queryable } from '../../storage/port.js';
import { mergeRows, parseJsonBody, parseJsonRow, withStoreCurrency } from '../ingest/service.js';
import { checkoutOptIn } from '../messaging/optin.js';
import * as repo from './repository.js';
import {
  LINE_FIELDS,
  ORDER_FIELDS,
  OrderEnvelope,
  type Order,
  type OrderDetail,
  type OrderListQuery,
} from './schema.js';

const toOrder = (r: repo.OrderDbRow, codes: ReadonlyMap<number, string[]>): z.infer<typeof Order> => ({
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
  discountCodes: codes.get(r.order_id) ?? [],
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
  const codes = await repo.orderDiscountCodes(
    db,
    pageRows.map((r) => r.order_id),
  );
  return {
    data: pageRows.map((r) => toOrder(r, codes)),
    nextCursor: rows.length > q.limit && last ? encodeCursor({ id: last.order_id }) : null,
  };
}

export async function getOrder(
  { db }: ModuleContext,
  { id }: { id: string },
): Promise<z.infer<typeof OrderDetail>> {
  const r = await repo.orderByExternalId(db, id);
  if (!r) throw new AppError('not_found', `no order with id ${id}`, { where: { field: 'id' } });
  const [lines, refunds, codes] = await Promise.all([
    repo.orderLines(db, r.order_id),
    repo.orderRefunds(db, r.order_id),
    repo.orderDiscountCodes(db, [r.order_id]),
  ]);
  return {
    ...toOrder(r, codes),
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
 * `checkTotals` (the API) also refuses a `line_total` that is not `quantity × unit_price` and an
 * `order_total` that does not add up ({@link orderTotalIssue}); webhooks keep the platform's figures.
 */
export function orderRows(body: unknown, { checkTotals = true } = {}): OrderLineRow[] {
  const env = OrderEnvelope.safeParse(body);
  if (!env.success) throw validationError(env.error, 'order');
  const raw = env.data as Record<string, unknown>;
  const order = Object.fromEntries(ORDER_FIELDS.filter((f) => f in raw).map((f) => [f, raw[f]]));
  const unknown = Object.keys(raw).filter(
    (k) => k !== 'lines' && !(ORDER_FIELDS as readonly string[]).includes(k),
  );
  const issues: Issue[] = unknown.map((k) => ({ path: k, message: 'is not an order field' }));
  const lines = env.data.lines ?? [];
  lines.forEach((l, i) => {
    for (const k of Object.keys(l))
      if (!(LINE_FIELDS as readonly string[]).includes(k))
        issues.push({
          path: `lines.${i}.${k}`,
          message: (ORDER_FIELDS as readonly string[]).includes(k)
            ? 'is an order field: send it on the order, not on a line'
            : `is not a line field (${LINE_FIELDS.join(', ')})`,
        });
  });
  const flat = lines.length
    ? lines.map((l) => ({
        ...order,
        ...Object.fromEntries(LINE_FIELDS.filter((f) => f in l).map((f) => [f, l[f]])),
      }))
    : [order];
  const rows: OrderLineRow[] = [];
  const seen = new Set<string>();
  flat.forEach((row, i) => {
    const p = parseJsonRow(OrderLineInput, row);
    if (p.success) {
      if (checkTotals && p.data.lineTotalIssue !== null)
        issues.push({ path: `lines.${i}.line_total`, message: p.data.lineTotalIssue });
      return rows.push(p.data);
    }
    for (const issue of p.issues) {
      const field = issue.path.split('.')[0] ?? '';
      const path =
        (LINE_FIELDS as readonly string[]).includes(field) && lines.length
          ? `lines.${i}.${issue.path}`
          : issue.path;
      if (!seen.has(path)) issues.push({ ...issue, path });
      seen.add(path);
    }
  });
  if (checkTotals && issues.length === 0 && rows.length === flat.length) {
    const total = orderTotalIssue(rows);
    if (total) issues.push({ path: 'order_total', message: total });
  }
  if (issues.length) {
    const first = issues[0] as Issue;
    throw new AppError('validation', `invalid order: ${first.path}: ${first.message}`, {
      details: { issues },
      where: { field: first.path },
    });
  }
  return rows;
}

/**
 * Why an order's `order_total` is neither its lines' subtotal − discount + shipping + tax nor, tax
 * included in the prices, subtotal − discount + shipping; null when it is one of them, or when the
 * order has no total or no lines to check it against. The API refuses such an order (a client's
 * mapping is wrong somewhere); a file import keeps the store's total and warns (imports/repository.ts
 * `orderTotalWarnings`).
 */
export function orderTotalIssue(rows: readonly OrderLineRow[]): string | null {
  const head = rows[0];
  if (!head || head.orderTotalMinor === null || !head.hasLine) return null;
  const digits = minorDigits(head.currency);
  const subtotal = rows.reduce((s, r) => s + (r.lineTotalMinor ?? 0), 0);
  const discount = head.discountMinor ?? 0;
  const shipping = head.shippingMinor ?? 0;
  const tax = head.taxMinor ?? 0;
  const included = subtotal - discount + shipping;
  if (head.orderTotalMinor === included + tax || head.orderTotalMinor === included) return null;
  const f = (m: number) => formatMinor(m, digits);
  return (
    `${f(head.orderTotalMinor)} is neither subtotal − discount + shipping + tax ` +
    `(${f(subtotal)} − ${f(discount)} + ${f(shipping)} + ${f(tax)} = ${f(included + tax)}) nor, tax included in ` +
    `the prices, subtotal − discount + shipping (${f(included)}); the subtotal is the lines' line_total ` +
    `(quantity × unit_price). Put fees and other charges in shipping, or leave order_total out`
  );
}

/** Upserts one order by its external id through the importer's merge (a replay changes nothing). */
export async function upsertOrder(ctx: ModuleContext, { body }: { body: unknown }) {
  const { db } = ctx;
  const now = ctx.clock.now();
  const given = orderRows(await withStoreCurrency(db, body));
  // Double opt-in on email: the checkout's grant becomes a confirmation request (messaging).
  const optIn = await checkoutOptIn(ctx, given);
  const rows = optIn.rows;
  const out = await mergeRows(db, { entity: 'orders', rows }, now, optIn.inTx ? { inTx: optIn.inTx } : {});
  optIn.after?.();
  const id = (rows[0] as OrderLineRow).orderId;
  return { order: await getOrder(ctx, { id }), created: out.inserted > 0, updated: out.updated > 0 };
}

/**
 * Sets an order's status in the caller's transaction (a recurring order's payment result: `paid`, or
 * `failed` when its dunning ends). Refuses a status the importer does not know; false when no such order.
 */
export async function setOrderStatusIn(tx: Queryable, externalId: string, status: string): Promise<boolean> {
  if (!(ORDER_STATUSES as readonly string[]).includes(status))
    throw new AppError('validation', `not an order status: '${status}' (${ORDER_STATUSES.join(', ')})`, {
      where: { field: 'status' },
    });
  return repo.setOrderStatus(tx, externalId, status);
}

export async function upsertRefund(ctx: ModuleContext, { body }: { body: unknown }) {
  const { db } = ctx;
  const now = ctx.clock.now();
  const refund = parseJsonBody(RefundInput, await withStoreCurrency(db, body), 'refund');
  const out = await mergeRows(db, { entity: 'refunds', rows: [refund] }, now);
  return {
    refundId: refund.refundId,
    inserted: out.inserted,
    updated: out.updated,
    unchanged: out.unchanged,
  };
}
