import { z } from '@hono/zod-openapi';
import { PageQuery } from '../../kit/http/openapi.js';
import { SpendInput } from '../imports/schema.js';

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a day YYYY-MM-DD');

export const SpendRowOut = z
  .object({
    date: z.string(),
    channel: z.string(),
    campaign: z.string(),
    amountMinor: z.number(),
    currency: z.string(),
  })
  .openapi('Spend');

export const SpendListQuery = z.object({
  ...PageQuery,
  from: Day.optional().openapi({ description: 'first day (inclusive)' }),
  to: Day.optional().openapi({ description: 'last day (inclusive)' }),
  channel: z.string().optional(),
});

export const SpendBatch = z.object({
  rows: z.array(z.unknown()).min(1).max(1000, 'at most 1000 rows per request'),
});
export const SpendBatchDoc = z.object({ rows: z.array(SpendInput).max(1000) }).openapi('SpendUpsert');
