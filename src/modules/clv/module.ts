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
};
