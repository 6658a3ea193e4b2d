import type { RetainModule } from '../../kit/module.js';
import { registerBasket } from './commands.js';
import { recommendationModelMigration } from './migrations.js';
import { registerRecommend } from './recommendCommands.js';

/**
 * Market-basket analysis and recommendations: `retain basket …`, `retain recommend …`, their routes,
 * the kept recommendation model (its tables, the `basket-train` job and the subscriber that enqueues
 * it when orders change).
 */
export const basketModule: RetainModule = {
  name: 'basket',
  migrations: [recommendationModelMigration],
  commands: (program, cli) => {
    registerBasket(program, cli);
    registerRecommend(program, cli);
  },
  routes: async () => {
    const [{ registerBasketRoutes }, { registerRecommendRoutes }] = await Promise.all([
      import('./routes.js'),
      import('./recommendRoutes.js'),
    ]);
    return (app, deps, auth) => {
      registerRecommendRoutes(app, deps, auth);
      registerBasketRoutes(app, deps, auth);
    };
  },
  jobs: async () => (await import('./jobs.js')).BASKET_JOBS,
  subscribers: async () => [(await import('./jobs.js')).retrainSubscriber],
  // The kept model's order histories are derived data: a merged customer's rows are dropped (the next
  // training, which the merged orders' customer change does not itself trigger, rebuilds the survivor's).
  customerHooks: {
    tables: ['reco_histories'],
    merge: async (tx, fromIds) => (await import('./repository.js')).dropHistoriesOf(tx, fromIds),
  },
};
