import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json } from '../../kit/http/openapi.js';
import { Campaign, CampaignInput, CodesInput } from './schema.js';
import * as service from './service.js';

const tags = ['campaigns'];
const NameParam = z.object({ name: z.string() });
const Launch = z
  .object({
    campaign: Campaign,
    recipients: z.number().int(),
    arms: z.record(z.string(), z.number().int()),
    queued: z.number().int(),
    alreadyQueued: z.number().int(),
  })
  .openapi('CampaignLaunch');

/** The campaigns API (docs/campaigns.md). */
export function registerCampaignRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const who = (c: { get(k: 'principal'): { id: string } | undefined }) => c.get('principal')?.id ?? null;
  app.get(
    '/v1/campaigns',
    documented(app, auth, 'messaging:read', {
      method: 'get',
      path: '/v1/campaigns',
      tags,
      summary: 'Campaigns, newest first',
      responses: { 200: json(z.object({ data: z.array(Campaign) }), 'The campaigns') },
    }),
    async (c) => c.json({ data: await service.listCampaigns(deps) }),
  );
  app.post(
    '/v1/campaigns',
    documented(app, auth, 'campaigns:write', {
      method: 'post',
      path: '/v1/campaigns',
      tags,
      summary: 'Create a draft: a segment or rule, A/B/n variants with shares, a holdout (default 10 %)',
      request: { body: { required: true, content: { 'application/json': { schema: CampaignInput } } } },
      responses: { 201: json(Campaign, 'The draft') },
    }),
    async (c) => c.json(await service.createCampaign(deps, await c.req.json(), who(c)), 201),
  );
  app.get(
    '/v1/campaigns/:name',
    documented(app, auth, 'messaging:read', {
      method: 'get',
      path: '/v1/campaigns/{name}',
      tags,
      summary: 'One campaign',
      request: { params: NameParam },
      responses: { 200: json(Campaign, 'The campaign') },
    }),
    async (c) => c.json(await service.getCampaign(deps, { name: c.req.param('name') })),
  );
  app.post(
    '/v1/campaigns/:name/launch',
    documented(app, auth, 'campaigns:write', {
      method: 'post',
      path: '/v1/campaigns/{name}/launch',
      tags,
      summary:
        "Launch: assign the audience once (stable hash) and queue each variant now, or schedule it (a time, or a local time in each customer's zone); repeating it changes nothing",
      request: { params: NameParam },
      responses: { 200: json(Launch, 'Who is in which arm, what was queued') },
    }),
    async (c) => c.json(await service.launchCampaign(deps, { name: c.req.param('name') })),
  );
  app.get(
    '/v1/campaigns/:name/report',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/campaigns/{name}/report',
      tags,
      summary:
        "Per arm: recipients, messages, orders, revenue; per variant: incremental revenue per recipient over the holdout with its 95 % interval (and CUPED), P(beats the holdout), a verdict; the split's sample-ratio check",
      request: { params: NameParam },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('CampaignReport'), 'The report') },
    }),
    async (c) => {
      const { campaignReport } = await import('./report.js');
      return c.json(await campaignReport(deps, { name: c.req.param('name') }));
    },
  );
  app.get(
    '/v1/campaigns/:name/plan',
    documented(app, auth, 'reports:read', {
      method: 'get',
      path: '/v1/campaigns/{name}/plan',
      tags,
      summary:
        'Before sending: the audience, its revenue per member over the last windowDays, and the smallest difference per recipient this split can detect (80 % power)',
      request: { params: NameParam },
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi('CampaignPlan'), 'The plan') },
    }),
    async (c) => {
      const { campaignPlan } = await import('./report.js');
      return c.json(await campaignPlan(deps, { name: c.req.param('name') }));
    },
  );
  for (const [action, summary, run] of [
    [
      'pause',
      'Pause a scheduled or sending campaign: nothing more is handed to a provider until it is resumed',
      service.pauseCampaign,
    ],
    [
      'resume',
      'Resume a paused campaign: held messages go out (those whose time passed, at once)',
      service.resumeCampaign,
    ],
  ] as const)
    app.post(
      `/v1/campaigns/:name/${action}`,
      documented(app, auth, 'campaigns:write', {
        method: 'post',
        path: `/v1/campaigns/{name}/${action}`,
        tags,
        summary,
        request: { params: NameParam },
        responses: { 200: json(Campaign, 'The campaign') },
      }),
      async (c) => c.json(await run(deps, { name: c.req.param('name') })),
    );
  app.post(
    '/v1/campaigns/:name/codes',
    documented(app, auth, 'campaigns:write', {
      method: 'post',
      path: '/v1/campaigns/{name}/codes',
      tags,
      summary:
        "Import the store's own discount codes for a variant whose offer takes them from a list (before the campaign is assigned)",
      request: {
        params: NameParam,
        body: { required: true, content: { 'application/json': { schema: CodesInput } } },
      },
      responses: {
        200: json(
          z
            .object({ variant: z.string(), imported: z.number().int(), available: z.number().int() })
            .openapi('CampaignCodesImported'),
          'How many were imported and how many are unused',
        ),
      },
    }),
    async (c) =>
      c.json(await service.importCodes(deps, { name: c.req.param('name'), body: await c.req.json() })),
  );
  app.get(
    '/v1/campaigns/:name/codes',
    documented(app, auth, 'campaigns:write', {
      method: 'get',
      path: '/v1/campaigns/{name}/codes',
      tags,
      summary: 'Every code of the campaign with its recipient, value and expiry (to create them in the shop)',
      request: { params: NameParam },
      responses: {
        200: json(
          z
            .object({
              data: z.array(
                z.object({
                  code: z.string(),
                  variant: z.string(),
                  customer: z.string().nullable(),
                  kind: z.enum(['percent', 'amount']).nullable(),
                  value: z.number().int().nullable(),
                  expiresAt: z.string().nullable(),
                }),
              ),
            })
            .openapi('CampaignCodes'),
          'The codes',
        ),
      },
    }),
    async (c) => c.json({ data: await service.listCodes(deps, { name: c.req.param('name') }) }),
  );
  app.post(
    '/v1/campaigns/:name/cancel',
    documented(app, auth, 'campaigns:write', {
      method: 'post',
      path: '/v1/campaigns/{name}/cancel',
      tags,
      summary: 'Cancel a campaign: messages not yet handed to a provider are not sent',
      request: { params: NameParam },
      responses: { 200: json(Campaign, 'The campaign') },
    }),
    async (c) => c.json(await service.cancelCampaign(deps, { name: c.req.param('name') })),
  );
}
