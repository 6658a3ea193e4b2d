import type { RetainModule } from '../../kit/module.js';
import { registerUsers } from './commands.js';

/** Web-app users and their sessions: `retain users …`, `/v1/users` (admins), `/v1/session`. */
export const usersModule: RetainModule = {
  name: 'users',
  commands: registerUsers,
  routes: async () => (await import('./routes.js')).registerUsersModuleRoutes,
};
