import { z } from '@hono/zod-openapi';
import { PageQuery } from '../../kit/http/openapi.js';

export const Product = z
  .object({
    sku: z.string(),
    title: z.string().nullable(),
    category: z.string().nullable(),
    priceMinor: z.number().nullable(),
    unitCostMinor: z.number().nullable(),
    currency: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi('Product');

export const ProductListQuery = z.object({ ...PageQuery, category: z.string().optional() });
