import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { json, securedRoute } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { emailFeedback } from './bounces.js';
import { confirmationInfo, confirmOptIn } from './optin.js';
import {
  PAGE_HEADERS,
  confirmPage,
  confirmWording,
  langOf,
  langOfHeader,
  notValidPage,
  preferencesPage,
  preferencesWording,
} from './pages.js';
import { preferencesInfo, preferencesLink, savePreferences } from './preferences.js';
import { checkHook } from './service.js';

/**
 * The contact's consent tools over HTTP: the preference page (`/p/<token>`), the double opt-in
 * confirmation (`/c/<token>`), the agents' preference link, and the email feedback hook (bounces and
 * complaints). The pages are public (the signed token is the credential); a link that is not valid is
 * a 404 page that says nothing more.
 */

const tags = ['messaging'];

/** The client's address: the proxy's `X-Forwarded-For` first hop, else the socket's. */
function clientIp(c: Context): string | undefined {
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
  if (forwarded) return forwarded;
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

type Status = 200 | 400 | 404 | 410;
const html = (c: Context, body: string, status: Status = 200) => {
  for (const [k, v] of Object.entries(PAGE_HEADERS)) c.header(k, v);
  return c.html(body, status);
};

/** Runs a page handler; a link that is not ours (or whose contact is gone) is the bare 404 page. */
async function pageOr404(c: Context, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.code === 'not_found')
      return html(c, notValidPage(langOfHeader(c.req.header('accept-language'))), 404);
    throw err;
  }
}

/** The form's fields; anything but a form post is refused (a bare POST must not change consent). */
async function formOf(c: Context): Promise<Record<string, string | string[]> | null> {
  const type = c.req.header('content-type') ?? '';
  if (!type.includes('application/x-www-form-urlencoded') && !type.includes('multipart/form-data'))
    return null;
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(body))
    out[k] = Array.isArray(v)
      ? v.filter((x): x is string => typeof x === 'string')
      : typeof v === 'string'
        ? v
        : '';
  return out;
}

export function registerConsentRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.openapi(
    securedRoute(auth, 'consent:write', {
      method: 'get',
      path: '/v1/customers/{id}/preferences-link',
      tags,
      summary: "A contact's preference page link (signed; lets them turn each channel on or off)",
      request: { params: z.object({ id: z.string().min(1) }) },
      responses: { 200: json(z.object({ customer: z.string(), url: z.string() }), 'The link') },
    }),
    async (c) => c.json(await preferencesLink(deps, c.req.valid('param')), 200),
  );

  app.get('/p/:token', (c) =>
    pageOr404(c, async () => {
      const info = await preferencesInfo(deps, { token: c.req.param('token') });
      return html(c, preferencesPage(info.locale, info.channels, false));
    }),
  );
  app.post('/p/:token', (c) =>
    pageOr404(c, async () => {
      const token = c.req.param('token');
      const info = await preferencesInfo(deps, { token });
      const form = await formOf(c);
      if (!form || form.form !== 'preferences')
        throw new AppError(
          'validation',
          'expected the preference form (application/x-www-form-urlencoded, form=preferences)',
          {
            where: { field: 'form' },
          },
        );
      const picked = form.channel;
      const on = new Set(picked === undefined ? [] : Array.isArray(picked) ? picked : [picked]);
      const saved = await savePreferences(deps, {
        token,
        on,
        ip: clientIp(c),
        userAgent: c.req.header('user-agent'),
        formText: preferencesWording(langOf(info.locale), on),
      });
      return html(c, preferencesPage(saved.locale, saved.channels, true));
    }),
  );

  // The confirmation link shows a button rather than confirming on GET: mail scanners open links.
  app.get('/c/:token', (c) =>
    pageOr404(c, async () => {
      const info = await confirmationInfo(deps, { token: c.req.param('token') });
      return html(
        c,
        confirmPage(info.locale, info.channel, info.state),
        info.state === 'expired' ? 410 : 200,
      );
    }),
  );
  app.post('/c/:token', (c) =>
    pageOr404(c, async () => {
      const token = c.req.param('token');
      const info = await confirmationInfo(deps, { token });
      const r = await confirmOptIn(deps, {
        token,
        ip: clientIp(c),
        userAgent: c.req.header('user-agent'),
        formText: confirmWording(langOf(info.locale), info.channel),
      });
      return html(c, confirmPage(r.locale, r.channel, r.state), r.state === 'expired' ? 410 : 200);
    }),
  );

  // The store's bounce mailbox piped here: one raw RFC 5322 message per request.
  app.post('/hooks/email-feedback/:token', async (c) => {
    await checkHook(deps, 'email-feedback', c.req.param('token'));
    const raw = Buffer.from(await c.req.arrayBuffer());
    return c.json(await emailFeedback(deps, { raw }), 200);
  });
}
