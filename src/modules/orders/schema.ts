import { z } from '@hono/zod-openapi';
import { PageQuery } from '../../kit/http/openapi.js';
import { ORDER_STATUSES, OrderLineInput, RefundInput } from '../imports/schema.js';

/** Order-level and line-level columns of the import's order-line schema. */
export const ORDER_FIELDS = [
  'order_id',
  'customer_id',
  'ordered_at',
  'currency',
  'order_total',
  'discount',
  'shipping',
  'tax',
  'channel',
  'source',
  'status',
  'country',
  'email',
  'email_consent',
  'discount_codes',
] as const;
export const LINE_FIELDS = ['sku', 'title', 'quantity', 'unit_price', 'line_total'] as const;

const fields = OrderLineInput.in.shape;
const pick = <K extends keyof typeof fields>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, fields[k]])) as Pick<typeof fields, K>;

/**
 * `POST /v1/orders` body, for the OpenAPI document: the import's order columns plus `lines` of its
 * line columns (the same field schemas; each flattened row is validated by `OrderLineInput`).
 */
export const OrderBodyDoc = z
  .object({
    ...pick(ORDER_FIELDS),
    discount_codes: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .openapi({
        description:
          'The discount codes the order used: one text of codes separated by commas, or an array of codes (each without a comma). Stored trimmed and upper-cased, blanks and repeats dropped; at most 20 codes of at most 100 characters.',
        example: ['SPRING20', 'VIP'],
      }),
    lines: z
      .array(z.object(pick(LINE_FIELDS)))
      .max(1000)
      .optional(),
  })
  .openapi('OrderUpsert');

/** The envelope checked before the rows are. */
export const OrderEnvelope = z
  .object({
    lines: z.array(z.record(z.string(), z.unknown())).max(1000, 'at most 1000 lines per order').optional(),
  })
  .passthrough();

export const RefundBodyDoc = RefundInput;

export const Order = z
  .object({
    id: z.string(),
    customerId: z.string().nullable(),
    orderedAt: z.string(),
    currency: z.string(),
    subtotalMinor: z.number(),
    discountMinor: z.number(),
    shippingMinor: z.number(),
    taxMinor: z.number(),
    totalMinor: z.number(),
    channel: z.string().nullable(),
    source: z.string().nullable(),
    status: z.string(),
    lineCount: z.number(),
    discountCodes: z
      .array(z.string())
      .openapi({ description: 'The discount codes the order used, upper-cased and sorted; [] for none' }),
  })
  .openapi('Order');

export const OrderDetail = Order.extend({
  lines: z.array(
    z.object({
      lineNo: z.number(),
      sku: z.string().nullable(),
      title: z.string().nullable(),
      quantity: z.number(),
      unitPriceMinor: z.number(),
      lineTotalMinor: z.number(),
    }),
  ),
  refunds: z.array(
    z.object({
      id: z.string(),
      amountMinor: z.number(),
      currency: z.string(),
      refundedAt: z.string(),
      reason: z.string().nullable(),
    }),
  ),
}).openapi('OrderDetail');

const instant = z
  .string()
  .datetime({ offset: true, message: 'expected an ISO 8601 instant like 2024-01-31T00:00:00Z' });

export const OrderListQuery = z.object({
  ...PageQuery,
  customerId: z.string().optional(),
  status: z.enum(ORDER_STATUSES).optional(),
  from: instant.optional().openapi({ description: 'ordered at or after' }),
  to: instant.optional().openapi({ description: 'ordered before' }),
});
export type OrderListQuery = z.infer<typeof OrderListQuery>;

export const UpsertOutcome = z
  .object({ inserted: z.number(), updated: z.number(), unchanged: z.number() })
  .openapi('UpsertOutcome');
