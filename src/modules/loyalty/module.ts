import type { RetainModule } from '../../kit/module.js';
import { registerLoyalty } from './commands.js';
import { loyaltyMigration } from './migrations.js';

/**
 * Loyalty (docs/loyalty.md): a points ledger with per-grant expiry spent FIFO, earning rules as a
 * versioned programme, pending points over the return window, clawback on refunds, redemptions with an
 * idempotency key, tiers, birthday and action bonuses, a digital card, and the programme's reports.
 */
export const loyaltyModule: RetainModule = {
  name: 'loyalty',
  migrations: [loyaltyMigration],
  commands: registerLoyalty,
  routes: async () => (await import('./routes.js')).registerLoyaltyRoutes,
  jobs: async () => (await import('./jobs.js')).LOYALTY_JOBS,
  subscribers: async () => [(await import('./jobs.js')).ordersSubscriber],
  customerHooks: {
    tables: [
      'loyalty_members',
      'loyalty_grants',
      'loyalty_entries',
      'loyalty_allocations',
      'loyalty_redemptions',
      'loyalty_tier_history',
      'loyalty_notices',
    ],
    erase: async (tx, customerId) => (await import('./repository.js')).eraseCustomerLoyalty(tx, customerId),
    merge: async (tx, fromIds, intoId) =>
      (await import('./repository.js')).mergeCustomerLoyalty(tx, fromIds, intoId),
  },
  timeline: {
    kinds: ['points', 'tier'],
    entries: async (db, q) => (await import('./repository.js')).loyaltyTimeline(db, q),
  },
  // Releases, expiries, birthday bonuses, expiry notices and tier downgrades: hourly (each keyed).
  schedules: [
    {
      name: 'loyalty.sweep',
      cron: '7 * * * *',
      timeZone: 'UTC',
      kind: 'loyalty.sweep',
      catchUp: 'skip',
    },
  ],
};
