import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json, page, securedRoute } from '../../kit/http/openapi.js';
import { Order, OrderBodyDoc, OrderDetail, OrderListQuery, RefundBodyDoc, UpsertOutcome } from './schema.js';
import * as service from './service.js';

const tags = ['orders'];

export function registerOrderRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'commerce:read', {
      method: 'get',
      path: '/v1/orders',
      tags,
      summary: 'List orders (cursor pagination, filters)',
      request: { query: OrderListQuery },
      responses: { 200: json(page(Order, 'OrderPage'), 'A page of orders') },
    }),
    async (c) => c.json(await service.listOrders(deps, c.req.valid('query')), 200),
  );
  app.openapi(
    securedRoute(auth, 'commerce:read', {
      method: 'get',
      path: '/v1/orders/{id}',
      tags,
      summary: 'An order with its lines and refunds',
      request: { params: z.object({ id: z.string().min(1) }) },
      responses: { 200: json(OrderDetail, 'The order') },
    }),
    async (c) => c.json(await service.getOrder(deps, c.req.valid('param')), 200),
  );
  app.post(
    '/v1/orders',
    documented(app, auth, 'ingest', {
      method: 'post',
      path: '/v1/orders',
      tags,
      summary: 'Upsert an order by its external id (order_id)',
      description:
        'Same validation and merge as `retain import orders`: sending the same order again changes nothing; a changed order replaces its lines.',
      request: { body: { required: true, content: { 'application/json': { schema: OrderBodyDoc } } } },
      responses: { 200: json(OrderDetail, 'Updated or unchanged'), 201: json(OrderDetail, 'Created') },
    }),
    async (c) => {
      const r = await service.upsertOrder(deps, { body: await c.req.json() });
      return c.json(r.order, r.created ? 201 : 200);
    },
  );
  app.post(
    '/v1/refunds',
    documented(app, auth, 'ingest', {
      method: 'post',
      path: '/v1/refunds',
      tags,
      summary: 'Upsert a refund by its external id (refund_id)',
      request: { body: { required: true, content: { 'application/json': { schema: RefundBodyDoc } } } },
      responses: { 200: json(UpsertOutcome.extend({ refundId: z.string() }), 'Merge counts') },
    }),
    async (c) => c.json(await service.upsertRefund(deps, { body: await c.req.json() })),
  );
}
