import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { validationError } from '../../kit/http/errors.js';
import { documented, json, securedRoute } from '../../kit/http/openapi.js';
import { CustomerInput } from '../imports/schema.js';
import {
  CONSENT_CHANNELS,
  ConsentEntry,
  ConsentHistoryQuery,
  ConsentUpdate,
  Customer,
  CustomerListQuery,
  CustomerPage,
  CustomerScoresResult,
  DuplicatesQuery,
  DuplicatesResult,
  MergeInput,
  MergeResult,
} from './schema.js';
import { putConsent } from '../messaging/optin.js';
import * as service from './service.js';

const IdParam = z.object({ id: z.string().min(1).openapi({ description: "the shop's customer id" }) });
const tags = ['customers'];

export function registerCustomerRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/customers',
      tags,
      summary: 'List customers with their scores: search, filters, sort, cursor pagination',
      description:
        'Each customer with `scores`: order aggregates and RFM from the stored scores (docs/segments.md#stored-inputs) and the latest CLV run’s prediction (P(alive), churn risk = 1 − P(alive), CLV, next order due). `q` searches the shop id, email and name; `sort` orders by a score (customers without it last, then by insertion); `total` counts the matches. A `nextCursor` continues the same sort and order.',
      request: { query: CustomerListQuery },
      responses: { 200: json(CustomerPage, 'A page of customers') },
    }),
    async (c) => c.json(await service.listCustomers(deps, c.req.valid('query')), 200),
  );

  // Before /v1/customers/{id}, which would take "duplicates" for an id.
  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/customers/duplicates',
      tags,
      summary: 'Groups of customers sharing a canonical email, and separately a phone number',
      request: { query: DuplicatesQuery },
      responses: { 200: json(DuplicatesResult, 'The duplicate groups, largest first') },
    }),
    async (c) => c.json(await service.listDuplicates(deps, c.req.valid('query')), 200),
  );

  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/customers/{id}',
      tags,
      summary: 'A customer with consents',
      request: { params: IdParam },
      responses: { 200: json(Customer, 'The customer') },
    }),
    async (c) => c.json(await service.getCustomer(deps, c.req.valid('param')), 200),
  );

  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/customers/{id}/scores',
      tags,
      summary: "A customer's figures: orders, net revenue, RFM, and the latest CLV run's prediction",
      description: 'The `scores` of the customer as `GET /v1/customers` lists them (money in major units).',
      request: { params: IdParam },
      responses: { 200: json(CustomerScoresResult, 'The scores') },
    }),
    async (c) => c.json(await service.customerScores(deps, c.req.valid('param')), 200),
  );

  app.post(
    '/v1/customers',
    documented(app, auth, 'customers:write', {
      method: 'post',
      path: '/v1/customers',
      tags,
      summary:
        'Create or update a customer by customer_id (import columns; fields left out keep their values)',
      request: { body: { required: true, content: { 'application/json': { schema: CustomerInput } } } },
      responses: { 200: json(Customer, 'Replaced (or unchanged)'), 201: json(Customer, 'Created') },
    }),
    async (c) => {
      const r = await service.upsertCustomer(deps, { body: await c.req.json() });
      return c.json(r.customer, r.created ? 201 : 200);
    },
  );

  app.put(
    '/v1/customers/:id',
    documented(app, auth, 'customers:write', {
      method: 'put',
      path: '/v1/customers/{id}',
      tags,
      summary: 'Create or update the customer with this id (fields left out keep their values)',
      description: 'Body: the customers import columns; customer_id may be omitted (the path wins).',
      request: {
        params: IdParam,
        body: { required: true, content: { 'application/json': { schema: CustomerInput } } },
      },
      responses: { 200: json(Customer, 'Replaced (or unchanged)'), 201: json(Customer, 'Created') },
    }),
    async (c) => {
      const r = await service.upsertCustomer(deps, { body: await c.req.json(), pathId: c.req.param('id') });
      return c.json(r.customer, r.created ? 201 : 200);
    },
  );

  app.put(
    '/v1/customers/:id/consents/:channel',
    documented(app, auth, 'consent:write', {
      method: 'put',
      path: '/v1/customers/{id}/consents/{channel}',
      tags,
      summary: 'Record a consent decision for one channel',
      description:
        'On a channel the messaging policy puts under double opt-in, a grant (not granted yet) answers 202: the consent stays as it was, and a confirmation message with a link is queued to the contact (`confirmation`).',
      request: {
        params: IdParam.extend({ channel: z.enum(CONSENT_CHANNELS) }),
        body: { required: true, content: { 'application/json': { schema: ConsentUpdate } } },
      },
      responses: {
        200: json(Customer, 'The customer with the new consent'),
        202: json(
          Customer.extend({
            confirmation: z.object({
              requestId: z.string(),
              channel: z.string(),
              status: z.string(),
              sendKey: z.string(),
              requestedAt: z.string(),
              expiresAt: z.string(),
              created: z.boolean(),
            }),
          }),
          'Double opt-in: the confirmation is queued (or one is already pending); consent unchanged',
        ),
      },
    }),
    async (c) => {
      const body = ConsentUpdate.safeParse(await c.req.json());
      if (!body.success) throw validationError(body.error, 'body');
      const r = await putConsent(deps, {
        id: c.req.param('id'),
        channel: c.req.param('channel'),
        body: body.data,
      });
      return r.confirmation
        ? c.json({ ...r.customer, confirmation: r.confirmation }, 202)
        : c.json(r.customer, 200);
    },
  );

  app.openapi(
    securedRoute(auth, 'export', {
      method: 'get',
      path: '/v1/customers/{id}/export',
      tags,
      summary:
        'GDPR: everything kept about one customer (record, consents and their ledger, orders, events, messages…)',
      request: { params: IdParam },
      responses: { 200: json(z.record(z.string(), z.unknown()), 'The customer data') },
    }),
    async (c) => c.json(await service.exportCustomer(deps, c.req.valid('param')), 200),
  );

  app.post(
    '/v1/customers/:id/erase',
    documented(app, auth, 'customers:write', {
      method: 'post',
      path: '/v1/customers/{id}/erase',
      tags,
      summary:
        'GDPR: erase one customer (personal data removed, orders kept anonymous, never messaged again; logged)',
      request: { params: IdParam },
      responses: {
        200: json(z.object({ erased: z.string(), nowKnownAs: z.string(), erasedAt: z.string() }), 'Erased'),
      },
    }),
    async (c) =>
      c.json(
        await service.eraseCustomer(deps, { id: c.req.param('id'), by: c.get('principal')?.id ?? 'api' }),
        200,
      ),
  );

  app.post(
    '/v1/customers/:id/merge',
    documented(app, auth, 'customers:write', {
      method: 'post',
      path: '/v1/customers/{id}/merge',
      tags,
      summary:
        'Merge duplicates into this customer (orders, events, consents, messages…; the merged ids become aliases)',
      description:
        'One transaction: every customer-owned row of the merged customers becomes this one’s (predictions are dropped and recomputed), each channel’s consent is the latest decision across them, empty fields are filled from the merged, and their shop ids keep resolving to this customer. A `customer.merged` domain event per merged customer.',
      request: {
        params: IdParam,
        body: { required: true, content: { 'application/json': { schema: MergeInput } } },
      },
      responses: { 200: json(MergeResult, 'Merged') },
    }),
    async (c) =>
      c.json(await service.mergeCustomers(deps, { id: c.req.param('id'), body: await c.req.json() }), 200),
  );

  app.openapi(
    securedRoute(auth, 'customers:read', {
      method: 'get',
      path: '/v1/customers/{id}/consents/history',
      tags,
      summary: "A customer's consent ledger: every decision with its source, time and proof, oldest first",
      request: { params: IdParam, query: ConsentHistoryQuery },
      responses: { 200: json(z.object({ data: z.array(ConsentEntry) }), 'The ledger entries') },
    }),
    async (c) =>
      c.json(
        await service.consentHistory(deps, {
          id: c.req.valid('param').id,
          channel: c.req.valid('query').channel,
        }),
        200,
      ),
  );
}
