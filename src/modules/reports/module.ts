import type { RetainModule } from '../../kit/module.js';
import { registerReport } from './commands.js';

/** `retain report …` and `GET /v1/reports/…`: LTV, retention, cohorts, RFM, channels, diagnosis, digest. */
export const reportsModule: RetainModule = {
  name: 'reports',
  commands: (program, cli) => void registerReport(program, cli),
  routes: async () => (await import('./routes.js')).registerReportRoutes,
};
