import { createRoute, z } from '@hono/zod-openapi';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { ERROR_RESPONSES, json } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { handleWebhook, verifySignature, type WebhookSource } from './service.js';

const WebhookResult = z
  .object({
    source: z.string(),
    topic: z.string(),
    handled: z
      .boolean()
      .openapi({ description: 'false for topics Retain does not use (acknowledged, not stored)' }),
    entity: z.string().optional(),
    id: z.string().optional(),
    inserted: z.number().optional(),
    updated: z.number().optional(),
    unchanged: z.number().optional(),
  })
  .openapi('WebhookResult');

const SOURCES: Record<
  WebhookSource,
  { topicHeader: string; signatureHeader: string; secret: (d: ServerDeps) => string | undefined; env: string }
> = {
  shopify: {
    topicHeader: 'x-shopify-topic',
    signatureHeader: 'x-shopify-hmac-sha256',
    secret: (d) => d.config.shopifySecret,
    env: 'RETAIN_SHOPIFY_SECRET',
  },
  woocommerce: {
    topicHeader: 'x-wc-webhook-topic',
    signatureHeader: 'x-wc-webhook-signature',
    secret: (d) => d.config.woocommerceSecret,
    env: 'RETAIN_WOOCOMMERCE_SECRET',
  },
};

export function registerWebhookRoutes(app: RetainApp, deps: ServerDeps): void {
  for (const [source, s] of Object.entries(SOURCES) as [WebhookSource, (typeof SOURCES)[WebhookSource]][]) {
    app.openAPIRegistry.registerPath(
      createRoute({
        method: 'post',
        path: `/webhooks/${source}`,
        tags: ['webhooks'],
        summary: `${source === 'shopify' ? 'Shopify' : 'WooCommerce'} webhook receiver`,
        description: `Authenticated by \`${s.signatureHeader}\`: base64 HMAC-SHA256 of the raw body with the shop secret (${s.env}). Topic from \`${s.topicHeader}\`. Redeliveries are idempotent (upserts by external id).`,
        request: { headers: z.object({ [s.signatureHeader]: z.string(), [s.topicHeader]: z.string() }) },
        responses: {
          400: ERROR_RESPONSES[400],
          401: ERROR_RESPONSES[401],
          404: ERROR_RESPONSES[404],
          409: json(
            ERROR_RESPONSES[400].content['application/json'].schema,
            'A refund arrived before its order: retried later by the platform',
          ),
          413: ERROR_RESPONSES[413],
          200: json(WebhookResult, 'Applied (or acknowledged and ignored)'),
        },
      }),
    );
    app.post(`/webhooks/${source}`, async (c) => {
      const secret = s.secret(deps);
      if (!secret) throw new AppError('not_found', `${source} webhooks are not configured (set ${s.env})`);
      const raw = new Uint8Array(await c.req.arrayBuffer());
      if (!verifySignature(raw, secret, c.req.header(s.signatureHeader)))
        throw new AppError('unauthorized', `bad or missing ${s.signatureHeader} signature`);
      const topic = c.req.header(s.topicHeader) ?? '';
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.from(raw).toString('utf8'));
      } catch {
        throw new AppError('validation', 'the webhook body is not JSON');
      }
      const result = await handleWebhook(deps, { source, topic, payload });
      c.get('log').info({ source, topic, handled: result.handled, id: result.id }, 'webhook');
      return c.json(result);
    });
  }
}
