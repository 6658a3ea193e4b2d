import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json, page, securedRoute } from '../../kit/http/openapi.js';
import { ProductInput } from '../imports/schema.js';
import { Product, ProductListQuery } from './schema.js';
import * as service from './service.js';

const tags = ['products'];
const SkuParam = z.object({ sku: z.string().min(1) });

export function registerProductRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'commerce:read', {
      method: 'get',
      path: '/v1/products',
      tags,
      summary: 'List products by SKU (cursor pagination)',
      request: { query: ProductListQuery },
      responses: { 200: json(page(Product, 'ProductPage'), 'A page of products') },
    }),
    async (c) => c.json(await service.listProducts(deps, c.req.valid('query')), 200),
  );
  app.openapi(
    securedRoute(auth, 'commerce:read', {
      method: 'get',
      path: '/v1/products/{sku}',
      tags,
      summary: 'A product',
      request: { params: SkuParam },
      responses: { 200: json(Product, 'The product') },
    }),
    async (c) => c.json(await service.getProduct(deps, c.req.valid('param')), 200),
  );
  app.put(
    '/v1/products/:sku',
    documented(app, auth, 'ingest', {
      method: 'put',
      path: '/v1/products/{sku}',
      tags,
      summary: 'Create or replace a product (import columns; the path SKU wins)',
      request: {
        params: SkuParam,
        body: { required: true, content: { 'application/json': { schema: ProductInput } } },
      },
      responses: { 200: json(Product, 'Replaced or unchanged'), 201: json(Product, 'Created') },
    }),
    async (c) => {
      const r = await service.upsertProduct(deps, { sku: c.req.param('sku'), body: await c.req.json() });
      return c.json(r.product, r.created ? 201 : 200);
    },
  );
}
