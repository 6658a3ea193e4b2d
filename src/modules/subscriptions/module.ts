import type { RetainModule } from '../../kit/module.js';
import { registerSubscriptions } from './commands.js';
import { subscriptionPaymentsMigration, subscriptionsMigration } from './migrations.js';

/**
 * Subscriptions (docs/subscriptions.md): plans, customers' subscriptions on their own calendar, the
 * customer's actions, and exactly one recurring order per subscription and cycle.
 */
export const subscriptionsModule: RetainModule = {
  name: 'subscriptions',
  migrations: [subscriptionsMigration, subscriptionPaymentsMigration],
  commands: registerSubscriptions,
  routes: async () => (await import('./routes.js')).registerSubscriptionRoutes,
  jobs: async () => (await import('./jobs.js')).SUBSCRIPTION_JOBS,
  schedules: [
    // Reminders, resumptions and recurring orders that are due, every five minutes.
    {
      name: 'subscriptions.renew',
      cron: '*/5 * * * *',
      timeZone: 'UTC',
      kind: 'subscriptions.renew',
      catchUp: 'skip',
    },
  ],
  timeline: {
    kinds: ['subscription'],
    entries: async (db, q) => (await import('./repository.js')).subscriptionTimeline(db, q),
  },
  customerHooks: {
    tables: ['subscriptions', 'subscription_events', 'subscription_orders', 'subscription_payments'],
    erase: async (tx, customerId, now) =>
      (await import('./repository.js')).eraseCustomerSubscriptions(tx, customerId, now),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerSubscriptions(tx, fromIds, intoId),
  },
};
