import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { documented, json, page, securedRoute } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { validationError } from '../../kit/http/errors.js';
import { MessagingPolicy, Send, SendListQuery, SendQueued, SendRequest } from './schema.js';
import { registerConsentRoutes } from './consentRoutes.js';
import * as service from './service.js';
import { TemplateSource } from './templateSchema.js';
import { PIXEL_GIF } from './tracking.js';

const tags = ['messaging'];
const NameParam = z.object({ name: z.string().min(1).max(200) });
const TemplateInfo = z
  .object({
    name: z.string(),
    version: z.number().int(),
    channel: z.string(),
    kind: z.string(),
    locales: z.array(z.string()),
    createdAt: z.string(),
    createdBy: z.string().nullable(),
  })
  .openapi('TemplateInfo');
const Rendered = z
  .object({
    locale: z.string(),
    subject: z.string().optional(),
    html: z.string().optional(),
    text: z.string(),
  })
  .openapi('RenderedMessage');
const Preview = z.object({ customer: z.string().min(1), locale: z.string().optional() }).strict();

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

const PAGE_TEXT = {
  en: {
    title: 'Unsubscribe',
    ask: 'Stop receiving messages from us by',
    button: 'Unsubscribe',
    done: 'You are unsubscribed from messages by',
  },
  uk: {
    title: 'Відписатися',
    ask: 'Більше не отримувати від нас повідомлень каналом',
    button: 'Відписатися',
    done: 'Ви відписалися від повідомлень каналом',
  },
  ru: {
    title: 'Отписаться',
    ask: 'Больше не получать от нас сообщений по каналу',
    button: 'Отписаться',
    done: 'Вы отписались от сообщений по каналу',
  },
} as const;

function unsubscribePage(locale: string | null, channel: string, done: boolean): string {
  const t = PAGE_TEXT[(locale?.slice(0, 2) as keyof typeof PAGE_TEXT) ?? 'en'] ?? PAGE_TEXT.en;
  const body = done
    ? `<p>${escapeHtml(t.done)} ${escapeHtml(channel)}.</p>`
    : `<p>${escapeHtml(t.ask)} ${escapeHtml(channel)}?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${escapeHtml(t.button)}</button></form>`;
  return `<!doctype html><html lang="${escapeHtml(locale?.slice(0, 2) ?? 'en')}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(t.title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.6rem 1.2rem}</style></head><body><h1>${escapeHtml(t.title)}</h1>${body}</body></html>`;
}

export function registerMessagingRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  registerConsentRoutes(app, deps, auth);
  app.put(
    '/v1/templates/:name',
    documented(app, auth, 'messaging:write', {
      method: 'put',
      path: '/v1/templates/{name}',
      tags,
      summary:
        'Save a template (a new version): MJML compiled now; errors name the variant, part, line and column',
      request: {
        params: NameParam,
        body: { required: true, content: { 'application/json': { schema: TemplateSource } } },
      },
      responses: { 201: json(TemplateInfo, 'The new version') },
    }),
    async (c) => {
      const body = (await c.req.json()) as Record<string, unknown>;
      const name = c.req.param('name');
      const input =
        typeof body === 'object' && body !== null && !Array.isArray(body) ? { name, ...body } : body;
      if ((input as { name?: unknown }).name !== name)
        throw new AppError(
          'validation',
          `name '${String((input as { name?: unknown }).name)}' in the body differs from '${name}' in the path`,
          { where: { field: 'name' } },
        );
      return c.json(
        await service.saveTemplate(deps, { body: input, by: c.get('principal')?.id ?? null }),
        201,
      );
    },
  );

  app.openapi(
    securedRoute(auth, 'messaging:read', {
      method: 'get',
      path: '/v1/templates',
      tags,
      summary: 'Templates (latest version of each)',
      responses: { 200: json(z.object({ data: z.array(TemplateInfo) }), 'Templates') },
    }),
    async (c) => c.json(await service.listTemplates(deps), 200),
  );

  app.openapi(
    securedRoute(auth, 'messaging:read', {
      method: 'get',
      path: '/v1/templates/{name}',
      tags,
      summary: 'A template with its source',
      request: { params: NameParam },
      responses: { 200: json(TemplateInfo.extend({ source: z.unknown() }), 'The template') },
    }),
    async (c) => c.json(await service.getTemplate(deps, c.req.valid('param')), 200),
  );

  app.post(
    '/v1/templates/:name/preview',
    documented(app, auth, 'messaging:read', {
      method: 'post',
      path: '/v1/templates/{name}/preview',
      tags,
      summary: 'Render a template for a real customer (strict: an unknown variable is an error)',
      request: {
        params: NameParam,
        body: { required: true, content: { 'application/json': { schema: Preview } } },
      },
      responses: { 200: json(Rendered, 'The rendered message') },
    }),
    async (c) => {
      const body = Preview.parse(await c.req.json());
      return c.json(await service.previewTemplate(deps, { name: c.req.param('name'), ...body }), 200);
    },
  );

  app.post(
    '/v1/messages',
    documented(app, auth, 'messaging:write', {
      method: 'post',
      path: '/v1/messages',
      tags,
      summary:
        'Queue a template for customers: one ledger row per key (source, step, customer, occurrence), sent at most once',
      request: { body: { required: true, content: { 'application/json': { schema: SendRequest } } } },
      responses: { 202: json(SendQueued, 'Queued (delivery runs in the job runner)') },
    }),
    async (c) => c.json(await service.queueSend(deps, await c.req.json()), 202),
  );

  app.openapi(
    securedRoute(auth, 'messaging:read', {
      method: 'get',
      path: '/v1/messages',
      tags,
      summary: 'The send ledger (filters: source, status, customer)',
      request: { query: SendListQuery },
      responses: { 200: json(page(Send, 'SendPage'), 'A page of sends') },
    }),
    async (c) => c.json(await service.listSends(deps, c.req.valid('query')), 200),
  );

  const Resolve = z
    .object({ action: z.enum(['resend', 'drop']), source: z.string().min(1).optional() })
    .strict()
    .openapi('ResolveUnknown');
  app.post(
    '/v1/messages/unknown',
    documented(app, auth, 'messaging:write', {
      method: 'post',
      path: '/v1/messages/unknown',
      tags,
      summary: 'Decide the sends a crash left unknown: resend (may double a delivered one) or drop',
      request: { body: { required: true, content: { 'application/json': { schema: Resolve } } } },
      responses: {
        200: json(
          z.object({ action: z.string(), source: z.string().nullable(), rows: z.number().int() }),
          'Done',
        ),
      },
    }),
    async (c) => {
      const body = Resolve.safeParse(await c.req.json());
      if (!body.success) throw validationError(body.error, 'body');
      return c.json(await service.resolveUnknownSends(deps, body.data), 200);
    },
  );

  app.openapi(
    securedRoute(auth, 'messaging:read', {
      method: 'get',
      path: '/v1/messages/summary',
      tags,
      summary: 'Counts of the send ledger by status (optionally one source)',
      request: { query: z.object({ source: z.string().optional() }) },
      responses: {
        200: json(
          z.object({ source: z.string().nullable(), counts: z.record(z.string(), z.number()) }),
          'Counts',
        ),
      },
    }),
    async (c) => c.json(await service.sendSummary(deps, c.req.valid('query')), 200),
  );

  app.openapi(
    securedRoute(auth, 'messaging:read', {
      method: 'get',
      path: '/v1/messaging/policy',
      tags,
      summary: 'Sending rules: frequency cap, quiet hours, throttles, public URL',
      responses: { 200: json(MessagingPolicy, 'The policy') },
    }),
    async (c) => c.json(await service.getPolicy(deps), 200),
  );

  app.put(
    '/v1/messaging/policy',
    documented(app, auth, 'store:manage', {
      method: 'put',
      path: '/v1/messaging/policy',
      tags,
      summary: 'Change sending rules (fields left out stay as they are)',
      request: {
        body: { required: true, content: { 'application/json': { schema: MessagingPolicy.partial() } } },
      },
      responses: { 200: json(MessagingPolicy, 'The policy') },
    }),
    async (c) => c.json(await service.setPolicy(deps, await c.req.json()), 200),
  );

  app.put(
    '/v1/messaging/channels',
    documented(app, auth, 'store:manage', {
      method: 'put',
      path: '/v1/messaging/channels',
      tags,
      summary:
        'Keep the channels configuration (email SMTP, SMS gateway, Telegram bot); RETAIN_CHANNELS overrides it',
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
        },
      },
      responses: { 200: json(z.object({ channels: z.array(z.string()) }), 'The channels configured') },
    }),
    async (c) => {
      const config = await service.setChannelConfig(deps, await c.req.json(), 'body');
      return c.json(
        { channels: Object.keys(config).filter((k) => (config as Record<string, unknown>)[k]) },
        200,
      );
    },
  );

  app.openapi(
    securedRoute(auth, 'store:manage', {
      method: 'get',
      path: '/v1/messaging/hooks',
      tags,
      summary:
        'The callback URLs to give the SMS gateway (inbound, delivery reports), the Telegram bot (setWebhook) and the bounce mailbox (email feedback)',
      responses: {
        200: json(
          z.object({
            smsInbound: z.string(),
            smsStatus: z.string(),
            telegram: z.string(),
            emailFeedback: z.string(),
            note: z.string().nullable(),
          }),
          'Secret callback URLs',
        ),
      },
    }),
    async (c) => c.json(await service.hookUrls(deps), 200),
  );

  app.openapi(
    securedRoute(auth, 'messaging:write', {
      method: 'get',
      path: '/v1/messaging/messenger-links/{id}',
      tags,
      summary: "A contact's Telegram deep-link payload (t.me/<bot>?start=<payload>) connecting their chat",
      request: { params: z.object({ id: z.string().min(1) }) },
      responses: { 200: json(z.object({ customer: z.string(), startPayload: z.string() }), 'The payload') },
    }),
    async (c) => c.json(await service.messengerLink(deps, c.req.valid('param')), 200),
  );

  // Provider callbacks: secret paths (GET /v1/messaging/hooks), JSON or form bodies.
  const bodyOf = async (c: { req: { header(n: string): string | undefined; text(): Promise<string> } }) => {
    const text = await c.req.text();
    if ((c.req.header('content-type') ?? '').includes('application/x-www-form-urlencoded'))
      return new URLSearchParams(text);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AppError('validation', 'the callback body is neither JSON nor form fields');
    }
  };
  app.post('/hooks/sms-inbound/:token', async (c) =>
    c.json(await service.smsInbound(deps, { token: c.req.param('token'), body: await bodyOf(c) })),
  );
  app.post('/hooks/sms-status/:token', async (c) =>
    c.json(await service.smsStatus(deps, { token: c.req.param('token'), body: await bodyOf(c) })),
  );
  app.post('/hooks/telegram/:token', async (c) =>
    c.json(await service.telegramUpdate(deps, { token: c.req.param('token'), body: await bodyOf(c) })),
  );

  // Public: engagement tracking (docs/messaging.md#tracking). The pixel answers the GIF whatever the
  // token (a mail client shows no broken image); only a signed one is recorded.
  app.get('/o/:token', async (c) => {
    await service.trackOpen(deps, { token: c.req.param('token') });
    return c.body(new Uint8Array(PIXEL_GIF), 200, {
      'content-type': 'image/gif',
      'cache-control': 'no-store, max-age=0',
    });
  });
  app.get('/l/:token', async (c) => {
    const url = await service.trackClick(deps, { token: c.req.param('token') });
    c.header('cache-control', 'no-store');
    c.header('referrer-policy', 'no-referrer');
    return c.redirect(url, 302);
  });

  // Public: the links in messages (signed; no key). RFC 8058: a POST to the List-Unsubscribe URL
  // unsubscribes at once; a GET shows a page whose button POSTs.
  app.get('/u/:token', async (c) => {
    const info = await service.unsubscribeInfo(deps, { token: c.req.param('token') });
    return c.html(unsubscribePage(info.locale, info.channel, info.consent === 'unsubscribed'));
  });
  app.post('/u/:token', async (c) => {
    const ip = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    const info = await service.unsubscribe(deps, {
      token: c.req.param('token'),
      ip,
      userAgent: c.req.header('user-agent'),
    });
    return c.html(unsubscribePage(info.locale, info.channel, true));
  });
}
