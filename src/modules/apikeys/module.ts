import type { RetainModule } from '../../kit/module.js';
import { registerKeys } from './commands.js';
import { keyLastUsedMigration } from './migrations.js';

/** API keys with roles: `retain keys …` and `/v1/keys`. */
export const apikeysModule: RetainModule = {
  name: 'apikeys',
  migrations: [keyLastUsedMigration],
  commands: registerKeys,
  routes: async () => (await import('./routes.js')).registerKeyRoutes,
};
