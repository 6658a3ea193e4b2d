import type { RetainModule } from '../../kit/module.js';
import { registerClv } from './commands.js';
import type { ClvStorage } from './repository.js';

// Loaded on first use so `retain clv fit --summary` starts without DuckDB.
const clvStorage: ClvStorage = {
  loadOrders: async (o) => (await import('./source.js')).clvStorage.loadOrders(o),
  storePredictions: async (t, rows) => (await import('./source.js')).clvStorage.storePredictions(t, rows),
};

/** Predictive CLV (BTYD models): `retain clv …`, `/v1/clv/…`, the `clv-predict` job. */
export const clvModule: RetainModule = {
  name: 'clv',
  commands: (program) => registerClv(program, clvStorage),
  routes: async () => (await import('./routes.js')).registerClvRoutes,
  jobs: async () => (await import('./jobs.js')).CLV_JOBS,
};
