import type { RetainModule } from '../../kit/module.js';
import { registerMessaging } from './commands.js';
import { consentRequestsMigration, messagingMigration } from './migrations.js';

/**
 * Messaging: templates, the channels (email over SMTP, SMS through an HTTP gateway, a Telegram bot),
 * and the one send path every other module uses (docs/messaging.md).
 */
export const messagingModule: RetainModule = {
  name: 'messaging',
  migrations: [messagingMigration, consentRequestsMigration],
  commands: registerMessaging,
  routes: async () => (await import('./routes.js')).registerMessagingRoutes,
  jobs: async () => (await import('./jobs.js')).MESSAGING_JOBS,
  // Deferred messages (quiet hours, retries) become due without anybody sending: look every minute.
  schedules: [
    {
      name: 'messaging.deliver',
      cron: '* * * * *',
      timeZone: 'UTC',
      kind: 'messaging.deliver',
      catchUp: 'skip',
    },
  ],
};
