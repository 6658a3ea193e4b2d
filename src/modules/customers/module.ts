import type { RetainModule } from '../../kit/module.js';

/** Customers: records, consent, and their orders and predictions by id. */
export const customersModule: RetainModule = {
  name: 'customers',
  routes: async () => (await import('./routes.js')).registerCustomerRoutes,
};
