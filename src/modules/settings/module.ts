import type { RetainModule } from '../../kit/module.js';
import { registerStore } from './commands.js';

/** Store settings (name, currency, time zone, default locale, …): `retain init`, `retain store …`, `/v1/store`. */
export const settingsModule: RetainModule = {
  name: 'settings',
  commands: registerStore,
  routes: async () => (await import('./routes.js')).registerStoreRoutes,
};
