import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json, page, PageQuery } from '../../kit/http/openapi.js';
import { parseInput } from '../../kit/http/input.js';
import {
  ActionInput,
  AdjustInput,
  EnrolInput,
  LedgerEntry,
  Member,
  MemberListQuery,
  Program,
  ProgramConfig,
  RedeemInput,
  Redemption,
  ReverseInput,
} from './schema.js';
import * as service from './service.js';
import { loyaltyReport, LoyaltyReportInput } from './reports.js';
import { getPolicy } from '../messaging/service.js';

const tags = ['loyalty'];
const body = (schema: z.ZodTypeAny) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});
const CustomerParam = z.object({ customer: z.string().openapi({ description: "the customer's shop id" }) });
const IdParam = z.object({ id: z.string().openapi({ description: 'the redemption id' }) });
const MemberRow = z
  .object({
    customer: z.string(),
    cardNumber: z.string(),
    enrolledAt: z.string(),
    tier: z.string().nullable(),
    available: z.number().int(),
    pending: z.number().int(),
    debt: z.number().int(),
  })
  .openapi('LoyaltyMemberRow');
const TierChange = z
  .object({
    changedAt: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    basisValue: z.number().int(),
    reason: z.string(),
  })
  .openapi('LoyaltyTierChange');
const SweepResult = z
  .object({
    settledMembers: z.number().int(),
    birthdayGrants: z.number().int(),
    expiringNotices: z.number().int(),
    tiersUp: z.number().int(),
    tiersDown: z.number().int(),
  })
  .openapi('LoyaltySweep');

const redemptionId = (raw: string) => {
  const id = Number(raw);
  return Number.isSafeInteger(id) && id > 0 ? id : -1;
};

/** The loyalty API (docs/loyalty.md#api). */
export function registerLoyaltyRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const who = (c: { get(k: 'principal'): { id: string } | undefined }) => c.get('principal')?.id ?? null;

  app.get(
    '/v1/loyalty/program',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/program',
      tags,
      summary: 'The programme rules in force',
      responses: { 200: json(Program, 'The programme') },
    }),
    async (c) => c.json(await service.getProgram(deps)),
  );
  app.put(
    '/v1/loyalty/program',
    documented(app, auth, 'loyalty:manage', {
      method: 'put',
      path: '/v1/loyalty/program',
      tags,
      summary: 'Save the programme rules as the next version (grants already made keep theirs)',
      request: body(ProgramConfig),
      responses: { 200: json(Program, 'The new version') },
    }),
    async (c) => c.json(await service.setProgram(deps, await c.req.json(), who(c))),
  );
  app.get(
    '/v1/loyalty/program/versions',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/program/versions',
      tags,
      summary: 'Every version of the programme, newest first',
      responses: { 200: json(z.object({ data: z.array(Program) }), 'The versions') },
    }),
    async (c) => c.json({ data: await service.programHistory(deps) }),
  );

  app.get(
    '/v1/loyalty/members',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/members',
      tags,
      summary: 'Members in customer order, optionally of one tier',
      request: { query: MemberListQuery },
      responses: { 200: json(page(MemberRow, 'LoyaltyMemberPage'), 'A page of members') },
    }),
    async (c) => c.json(await service.listMembers(deps, parseInput(MemberListQuery, c.req.query(), 'query'))),
  );
  app.post(
    '/v1/loyalty/members',
    documented(app, auth, 'loyalty:write', {
      method: 'post',
      path: '/v1/loyalty/members',
      tags,
      summary: 'Enrol a customer (201), or answer the existing membership (200)',
      request: body(EnrolInput),
      responses: {
        200: json(z.object({ member: Member, created: z.boolean() }), 'Already a member'),
        201: json(z.object({ member: Member, created: z.boolean() }), 'Enrolled'),
      },
    }),
    async (c) => {
      const r = await service.enrol(deps, await c.req.json());
      return c.json(r, r.created ? 201 : 200);
    },
  );
  app.get(
    '/v1/loyalty/members/:customer',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/members/{customer}',
      tags,
      summary: "A member's balance, pending points, tier, next tier and points expiring soon",
      request: { params: CustomerParam },
      responses: { 200: json(Member, 'The member') },
    }),
    async (c) => c.json(await service.getMember(deps, { customer: c.req.param('customer') })),
  );
  app.get(
    '/v1/loyalty/members/:customer/ledger',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/members/{customer}/ledger',
      tags,
      summary: "A member's ledger entries, newest first",
      request: { params: CustomerParam, query: z.object(PageQuery) },
      responses: { 200: json(page(LedgerEntry, 'LoyaltyLedgerPage'), 'A page of entries') },
    }),
    async (c) => {
      const q = parseInput(z.object(PageQuery), c.req.query(), 'query');
      return c.json(await service.memberLedger(deps, { customer: c.req.param('customer'), ...q }));
    },
  );
  app.get(
    '/v1/loyalty/members/:customer/tiers',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/members/{customer}/tiers',
      tags,
      summary: "A member's tier history",
      request: { params: CustomerParam },
      responses: { 200: json(z.object({ data: z.array(TierChange) }), 'The changes, oldest first') },
    }),
    async (c) => c.json({ data: await service.memberTiers(deps, { customer: c.req.param('customer') }) }),
  );
  app.get(
    '/v1/loyalty/members/:customer/redemptions',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/members/{customer}/redemptions',
      tags,
      summary: "A member's redemptions, newest first (at most 100)",
      request: { params: CustomerParam },
      responses: { 200: json(z.object({ data: z.array(Redemption) }), 'The redemptions') },
    }),
    async (c) =>
      c.json({
        data: await service.memberRedemptions(deps, { customer: c.req.param('customer'), limit: 100 }),
      }),
  );

  app.post(
    '/v1/loyalty/redemptions',
    documented(app, auth, 'loyalty:write', {
      method: 'post',
      path: '/v1/loyalty/redemptions',
      tags,
      summary:
        'Spend points (FIFO by expiry) for a discount code or against an order; the same idempotencyKey answers the first result (200) and spends nothing more',
      request: body(RedeemInput),
      responses: {
        200: json(
          z.object({ redemption: Redemption, replayed: z.literal(true) }),
          'A retry of an earlier redemption',
        ),
        201: json(z.object({ redemption: Redemption, replayed: z.literal(false) }), 'Redeemed'),
      },
    }),
    async (c) => {
      const r = await service.redeem(deps, await c.req.json(), who(c));
      return c.json(r, r.replayed ? 200 : 201);
    },
  );
  app.get(
    '/v1/loyalty/redemptions/:id',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/redemptions/{id}',
      tags,
      summary: 'One redemption',
      request: { params: IdParam },
      responses: { 200: json(Redemption, 'The redemption') },
    }),
    async (c) => c.json(await service.getRedemption(deps, { id: redemptionId(c.req.param('id')) })),
  );
  app.post(
    '/v1/loyalty/redemptions/:id/reverse',
    documented(app, auth, 'loyalty:write', {
      method: 'post',
      path: '/v1/loyalty/redemptions/{id}/reverse',
      tags,
      summary: 'Give the points of a cancelled order or an unused code back (again: nothing changes)',
      request: { params: IdParam, ...body(ReverseInput) },
      responses: { 200: json(z.object({ redemption: Redemption, reversed: z.boolean() }), 'The redemption') },
    }),
    async (c) => {
      const text = await c.req.text();
      return c.json(
        await service.reverseRedemption(deps, {
          id: redemptionId(c.req.param('id')),
          body: text.trim() ? (JSON.parse(text) as unknown) : {},
          by: who(c),
        }),
      );
    },
  );
  app.post(
    '/v1/loyalty/adjustments',
    documented(app, auth, 'loyalty:write', {
      method: 'post',
      path: '/v1/loyalty/adjustments',
      tags,
      summary: 'Add or take away points by hand with a reason (once per idempotencyKey)',
      request: body(AdjustInput),
      responses: { 200: json(z.object({ applied: z.boolean(), member: Member }), 'The member after it') },
    }),
    async (c) => c.json(await service.adjust(deps, await c.req.json(), who(c))),
  );
  app.post(
    '/v1/loyalty/actions',
    documented(app, auth, 'loyalty:write', {
      method: 'post',
      path: '/v1/loyalty/actions',
      tags,
      summary: 'Points for an action the programme names (review, survey, referral …), once per reference',
      request: body(ActionInput),
      responses: {
        200: json(z.object({ granted: z.boolean(), points: z.number().int(), member: Member }), 'The result'),
      },
    }),
    async (c) => c.json(await service.rewardAction(deps, await c.req.json())),
  );
  app.get(
    '/v1/loyalty/members/:customer/card-link',
    documented(app, auth, 'loyalty:write', {
      method: 'get',
      path: '/v1/loyalty/members/{customer}/card-link',
      tags,
      summary:
        "The member's digital card link (signed; no key needed to open it): at the messaging policy's publicUrl, else this server's address",
      request: { params: CustomerParam },
      responses: { 200: json(z.object({ url: z.string(), token: z.string() }), 'The link') },
    }),
    async (c) => {
      const base = (await getPolicy(deps)).publicUrl ?? new URL(c.req.url).origin;
      const { cardLink } = await import('./card.js');
      return c.json(await cardLink(deps, c.req.param('customer'), base));
    },
  );
  // Public: the member's card behind its signed link (no key), printable, with the QR code a till scans.
  app.get('/card/:token', async (c) => {
    const { cardPage, CARD_PAGE_HEADERS } = await import('./card.js');
    const lang = c.req.query('lang');
    const page = await cardPage(deps, c.req.param('token'), {
      ...(lang === 'en' || lang === 'uk' || lang === 'ru' ? { locale: lang } : {}),
      baseUrl: (await getPolicy(deps)).publicUrl ?? new URL(c.req.url).origin,
    });
    return c.html(page.html, page.status, { ...CARD_PAGE_HEADERS });
  });
  app.get(
    '/v1/loyalty/report',
    documented(app, auth, 'loyalty:read', {
      method: 'get',
      path: '/v1/loyalty/report',
      tags,
      summary:
        'Liability by expiry month, points earned and burnt by month, redemptions, members, and members vs matched non-members (`retain loyalty report`)',
      request: { query: LoyaltyReportInput },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('LoyaltyReport'), 'The report') },
    }),
    async (c) => c.json(await loyaltyReport(deps, parseInput(LoyaltyReportInput, c.req.query(), 'query'))),
  );
  app.post(
    '/v1/loyalty/sweep',
    documented(app, auth, 'loyalty:manage', {
      method: 'post',
      path: '/v1/loyalty/sweep',
      tags,
      summary:
        'Run the hourly sweep now: releases, expiries, birthday bonuses, expiry notices, tier downgrades',
      responses: { 200: json(SweepResult, 'What it did') },
    }),
    async (c) => c.json(await service.sweep(deps)),
  );
}
