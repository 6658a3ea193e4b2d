import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';
import {
  CreateSubscription,
  PaymentListQuery,
  PaymentOutcome,
  PaymentPage,
  PaymentResult,
  Plan,
  PlanDefinition,
  SubscriptionAction,
  SubscriptionDetail,
  SubscriptionListQuery,
  SubscriptionPage,
} from './schema.js';
import { registerSubscriptionPages } from './pages.js';
import { registerSubscriptionReportRoutes } from './reportRoutes.js';
import * as service from './service.js';

const tags = ['subscriptions'];
const NameParam = z.object({ name: z.string().openapi({ description: 'the plan name' }) });
const IdParam = z.object({ id: z.string().openapi({ description: 'the subscription id' }) });

/** The subscriptions API (docs/subscriptions.md). */
export function registerSubscriptionRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const who = (c: { get(k: 'principal'): { id: string } | undefined }) => c.get('principal')?.id ?? null;
  // First: `/v1/subscriptions/report` before `/v1/subscriptions/:id` (routes match in order).
  registerSubscriptionReportRoutes(app, deps, auth);

  app.get(
    '/v1/subscription-plans',
    documented(app, auth, 'subscriptions:read', {
      method: 'get',
      path: '/v1/subscription-plans',
      tags,
      summary: 'The subscription plans, with their subscribers by status',
      responses: { 200: json(z.object({ data: z.array(Plan) }), 'The plans') },
    }),
    async (c) => c.json({ data: await service.listPlans(deps) }),
  );
  app.put(
    '/v1/subscription-plans',
    documented(app, auth, 'subscriptions:manage', {
      method: 'put',
      path: '/v1/subscription-plans',
      tags,
      summary: 'Save a plan: interval, discount against the one-off price, products, delivery time, reminder',
      request: { body: { required: true, content: { 'application/json': { schema: PlanDefinition } } } },
      responses: { 200: json(Plan, 'The plan') },
    }),
    async (c) => c.json(await service.savePlan(deps, { body: await c.req.json() })),
  );
  app.get(
    '/v1/subscription-plans/:name',
    documented(app, auth, 'subscriptions:read', {
      method: 'get',
      path: '/v1/subscription-plans/{name}',
      tags,
      summary: 'One plan',
      request: { params: NameParam },
      responses: { 200: json(Plan, 'The plan') },
    }),
    async (c) => c.json(await service.getPlan(deps, { name: c.req.param('name') })),
  );
  app.post(
    '/v1/subscription-plans/:name/archive',
    documented(app, auth, 'subscriptions:manage', {
      method: 'post',
      path: '/v1/subscription-plans/{name}/archive',
      tags,
      summary: 'Archive a plan: no new subscriptions on it (those on it go on)',
      request: { params: NameParam },
      responses: { 200: json(Plan, 'The plan') },
    }),
    async (c) => c.json(await service.archivePlan(deps, { name: c.req.param('name') })),
  );

  app.get(
    '/v1/subscriptions',
    documented(app, auth, 'subscriptions:read', {
      method: 'get',
      path: '/v1/subscriptions',
      tags,
      summary: 'Subscriptions by id (keyset pages), by status, plan or customer',
      request: { query: SubscriptionListQuery },
      responses: { 200: json(SubscriptionPage, 'A page of subscriptions') },
    }),
    async (c) => c.json(await service.listSubscriptions(deps, { query: c.req.query() }), 200),
  );
  app.post(
    '/v1/subscriptions',
    documented(app, auth, 'subscriptions:write', {
      method: 'post',
      path: '/v1/subscriptions',
      tags,
      summary: 'Subscribe a customer to a product on a plan',
      request: { body: { required: true, content: { 'application/json': { schema: CreateSubscription } } } },
      responses: { 201: json(SubscriptionDetail, 'The subscription') },
    }),
    async (c) =>
      c.json(await service.createSubscription(deps, { body: await c.req.json(), by: who(c) }), 201),
  );
  app.get(
    '/v1/subscriptions/:id',
    documented(app, auth, 'subscriptions:read', {
      method: 'get',
      path: '/v1/subscriptions/{id}',
      tags,
      summary: 'One subscription: its terms, the next deliveries, its orders and history',
      request: { params: IdParam },
      responses: { 200: json(SubscriptionDetail, 'The subscription') },
    }),
    async (c) => c.json(await service.getSubscription(deps, { id: c.req.param('id') })),
  );
  app.post(
    '/v1/subscriptions/:id/actions',
    documented(app, auth, 'subscriptions:write', {
      method: 'post',
      path: '/v1/subscriptions/{id}/actions',
      tags,
      summary:
        'Skip, reschedule, pause until, resume, change quantity, swap, cancel with a reason, reactivate',
      request: {
        params: IdParam,
        body: { required: true, content: { 'application/json': { schema: SubscriptionAction } } },
      },
      responses: { 200: json(SubscriptionDetail, 'The subscription after the action') },
    }),
    async (c) =>
      c.json(
        await service.actOnSubscription(deps, {
          id: c.req.param('id'),
          body: await c.req.json(),
          by: who(c),
        }),
      ),
  );
  app.get(
    '/v1/subscription-payments',
    documented(app, auth, 'subscriptions:read', {
      method: 'get',
      path: '/v1/subscription-payments',
      tags,
      summary: 'Payment attempts of recurring orders (`status=due`: what to charge now), by key',
      request: { query: PaymentListQuery },
      responses: { 200: json(PaymentPage, 'A page of payment attempts') },
    }),
    async (c) => c.json(await service.listPayments(deps, { query: c.req.query() }), 200),
  );
  app.post(
    '/v1/subscription-payments',
    documented(app, auth, 'subscriptions:write', {
      method: 'post',
      path: '/v1/subscription-payments',
      tags,
      summary:
        "The payment system's result of one attempt: succeeded (the order is paid) or failed (the next retry, or the plan's final action)",
      request: { body: { required: true, content: { 'application/json': { schema: PaymentResult } } } },
      responses: { 200: json(PaymentOutcome, 'What the result did') },
    }),
    async (c) => c.json(await service.recordPayment(deps, { body: await c.req.json(), by: who(c) })),
  );
  registerSubscriptionPages(app, deps);
}
