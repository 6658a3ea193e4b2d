import type { RetainModule } from '../../kit/module.js';
import { registerImport } from './commands.js';
import { importProgressMigration } from './migrations.js';

/** File imports: `retain import …`, uploads as background jobs. */
export const importsModule: RetainModule = {
  name: 'imports',
  migrations: [importProgressMigration],
  commands: registerImport,
  routes: async () => (await import('./routes.js')).registerImportRoutes,
  jobs: async () => (await import('./jobs.js')).IMPORT_JOBS,
};
