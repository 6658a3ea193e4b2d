import type { RetainModule } from '../../kit/module.js';

/** Marketing spend per channel and day (for CAC). */
export const spendModule: RetainModule = {
  name: 'spend',
  routes: async () => (await import('./routes.js')).registerSpendRoutes,
};
