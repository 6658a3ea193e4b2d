import type { RetainModule } from '../../kit/module.js';

/** The product catalogue (SKU, title, category, price, unit cost). */
export const productsModule: RetainModule = {
  name: 'products',
  routes: async () => (await import('./routes.js')).registerProductRoutes,
};
