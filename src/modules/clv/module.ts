import type { RetainModule } from '../../kit/module.js';
import { registerClv } from './commands.js';
import { clvMonthsMigration } from './migrations.js';

/** Predictive CLV (BTYD models): `retain clv …`, `/v1/clv/…`, the `clv-predict` job. */
export const clvModule: RetainModule = {
  name: 'clv',
  migrations: [clvMonthsMigration],
  commands: (program, cli) => registerClv(program, cli),
  routes: async () => (await import('./routes.js')).registerClvRoutes,
  jobs: async () => (await import('./jobs.js')).CLV_JOBS,
  // Predictions are derived data: a merged customer's rows are dropped (the next run predicts the
  // survivor from the merged history). Erasure keeps them (numbers about an anonymous id).
  customerHooks: {
    tables: ['clv_predictions'],
    merge: async (tx, fromIds) => (await import('./repository.js')).dropPredictionsOf(tx, fromIds),
  },
};
