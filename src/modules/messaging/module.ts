import type { RetainModule } from '../../kit/module.js';
import { registerMessaging } from './commands.js';
import {
  consentRequestsMigration,
  engagementMigration,
  handOverMigration,
  messagingMigration,
} from './migrations.js';

/**
 * Messaging: templates, the channels (email over SMTP, SMS through an HTTP gateway, a Telegram bot),
 * and the one send path every other module uses (docs/messaging.md).
 */
export const messagingModule: RetainModule = {
  name: 'messaging',
  migrations: [messagingMigration, consentRequestsMigration, engagementMigration, handOverMigration],
  commands: registerMessaging,
  routes: async () => (await import('./routes.js')).registerMessagingRoutes,
  jobs: async () => (await import('./jobs.js')).MESSAGING_JOBS,
  customerHooks: {
    tables: ['message_sends', 'messenger_chats', 'consent_requests', 'message_events'],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerMessaging(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerMessaging(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['message', 'message.open', 'message.click', 'message.unsubscribe'],
    entries: async (db, q) => (await import('./repository.js')).messageTimeline(db, q),
  },
  // Deferred messages (quiet hours, retries) become due without anybody sending: look every minute.
  schedules: [
    {
      name: 'messaging.deliver',
      cron: '* * * * *',
      timeZone: 'UTC',
      kind: 'messaging.deliver',
      catchUp: 'skip',
    },
    // Double opt-in requests nobody confirmed within 7 days: marked expired once a day.
    {
      name: 'messaging.expire-opt-ins',
      cron: '17 3 * * *',
      timeZone: 'UTC',
      kind: 'messaging.expire-opt-ins',
      // A missed day is swept the next: nothing to catch up at start.
      catchUp: 'skip',
    },
  ],
};
