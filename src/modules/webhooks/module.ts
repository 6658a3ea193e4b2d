import type { RetainModule } from '../../kit/module.js';

/** Shopify and WooCommerce order webhooks (HMAC-verified). */
export const webhooksModule: RetainModule = {
  name: 'webhooks',
  routes: async () => (await import('./routes.js')).registerWebhookRoutes,
};
