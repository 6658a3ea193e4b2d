import type { ModuleContext } from '../../kit/context.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../shared/errors.js';
import type { Database } from '../../storage/port.js';
import { CustomerInput, RefundInput, type RefundRow } from '../imports/schema.js';
import { mergeRows, parseJsonRow, type MergeOutcome } from '../ingest/service.js';
import { orderRows } from '../orders/service.js';
import * as map from './mapping.js';
import * as repo from './repository.js';

export type WebhookSource = 'shopify' | 'woocommerce';

/** `signature` must be base64(HMAC-SHA256(secret, raw body)); compared in constant time. */
export function verifySignature(raw: Uint8Array, secret: string, signature: string | undefined): boolean {
  if (!signature) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  const given = Buffer.from(signature.trim(), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface WebhookResult {
  source: WebhookSource;
  topic: string;
  handled: boolean;
  entity?: 'orders' | 'refunds' | 'customers';
  id?: string;
  inserted?: number;
  updated?: number;
  unchanged?: number;
  refunds?: MergeOutcome['refunds'];
}

function refunds(items: Record<string, unknown>[]): RefundRow[] {
  return items.map((r, i) => {
    const p = parseJsonRow(RefundInput, r, ['refunds', i]);
    if (!p.success)
      throw new AppError('validation', `refund ${i}: ${p.issues[0]?.message ?? 'invalid'}`, {
        details: { issues: p.issues },
      });
    return p.data;
  });
}

async function storeOrder(db: Database, m: map.MappedOrder, now: Date) {
  // The platform's totals are what the customer was charged (fees, line discounts included): kept as sent.
  const rows = orderRows(m.order, { checkTotals: false });
  const out = await mergeRows(db, { entity: 'orders', rows, refunds: refunds(m.refunds) }, now);
  return { entity: 'orders' as const, id: rows[0]?.orderId, ...counts(out), refunds: out.refunds };
}

async function storeCustomer(db: Database, c: Record<string, unknown>, now: Date) {
  const p = parseJsonRow(CustomerInput, c);
  if (!p.success)
    throw new AppError('validation', 'invalid customer payload', { details: { issues: p.issues } });
  const out = await mergeRows(db, { entity: 'customers', rows: [p.data] }, now);
  return { entity: 'customers' as const, id: p.data.customerId, ...counts(out) };
}

const counts = (o: MergeOutcome) => ({ inserted: o.inserted, updated: o.updated, unchanged: o.unchanged });

/**
 * Applies one verified webhook. Every write is an upsert by external id through the importer's
 * merge, so a redelivery (platforms retry on any non-2xx) changes nothing.
 */
export async function handleWebhook(
  ctx: ModuleContext,
  { source, topic, payload }: { source: WebhookSource; topic: string; payload: unknown },
): Promise<WebhookResult> {
  const { db } = ctx;
  const now = ctx.clock.now();
  const body = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  const base = { source, topic };
  if (source === 'shopify') {
    switch (topic) {
      case 'orders/create':
      case 'orders/updated':
      case 'orders/paid':
      case 'orders/cancelled': {
        const m = map.shopifyOrder(body);
        const r = await storeOrder(db, m, now);
        if (body.id !== undefined && r.id)
          await repo.rememberRef(db, 'shopify', 'order', String(body.id), r.id);
        return { ...base, handled: true, ...r };
      }
      case 'refunds/create': {
        const orderRef = String(body.order_id ?? '');
        const orderId = await repo.lookupRef(db, 'shopify', 'order', orderRef);
        if (!orderId)
          throw new AppError(
            'conflict',
            `order ${orderRef} of this refund has not been received yet; retry later`,
            {
              where: { field: 'order_id' },
            },
          );
        const [row] = refunds([map.shopifyRefund(body, orderId, undefined, undefined)]);
        const out = await mergeRows(db, { entity: 'refunds', rows: [row as RefundRow] }, now);
        return { ...base, handled: true, entity: 'refunds', id: row?.refundId, ...counts(out) };
      }
      case 'customers/create':
      case 'customers/update':
        return { ...base, handled: true, ...(await storeCustomer(db, map.shopifyCustomer(body), now)) };
      default:
        return { ...base, handled: false };
    }
  }
  switch (topic) {
    case 'order.created':
    case 'order.updated':
    case 'order.restored':
      // A checkout draft is a cart, not an order: acknowledged, not stored.
      if (map.isWooDraft(body)) return { ...base, handled: false };
      return { ...base, handled: true, ...(await storeOrder(db, map.wooOrder(body), now)) };
    case 'customer.created':
    case 'customer.updated':
      return { ...base, handled: true, ...(await storeCustomer(db, map.wooCustomer(body), now)) };
    default:
      return { ...base, handled: false };
  }
}
