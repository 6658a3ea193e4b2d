import { registerCustomerHooks } from '../kit/customerHooks.js';
import { registerTimelineSources } from '../kit/timeline.js';
import type { RetainModule } from '../kit/module.js';
import type { JobHandler } from '../kit/context.js';
import type { Schedule } from '../kit/schedule.js';
import type { Subscriber } from '../kit/events.js';
import { apikeysModule } from './apikeys/module.js';
import { basketModule } from './basket/module.js';
import { campaignsModule } from './campaigns/module.js';
import { clvModule } from './clv/module.js';
import { crmModule } from './crm/module.js';
import { customersModule } from './customers/module.js';
import { eventsModule } from './events/module.js';
import { flowsModule } from './flows/module.js';
import { importsModule } from './imports/module.js';
import { jobsModule } from './jobs/module.js';
import { loyaltyModule } from './loyalty/module.js';
import { messagingModule } from './messaging/module.js';
import { ordersModule } from './orders/module.js';
import { outboxModule } from './outbox/module.js';
import { productsModule } from './products/module.js';
import { reportsModule } from './reports/module.js';
import { segmentsModule } from './segments/module.js';
import { settingsModule } from './settings/module.js';
import { spendModule } from './spend/module.js';
import { storefrontModule } from './storefront/module.js';
import { subscriptionsModule } from './subscriptions/module.js';
import { surveysModule } from './surveys/module.js';
import { tasksModule } from './tasks/module.js';
import { usersModule } from './users/module.js';
import { webhooksModule } from './webhooks/module.js';

/**
 * Every domain module, once. The server, the CLI, the job runner and the migrations read this list;
 * adding a module is its folder plus one line here. Order: routes are mounted and commands listed in it.
 */
export const MODULES: readonly RetainModule[] = [
  settingsModule,
  eventsModule,
  customersModule,
  ordersModule,
  productsModule,
  spendModule,
  importsModule,
  reportsModule,
  basketModule,
  clvModule,
  segmentsModule,
  messagingModule,
  loyaltyModule,
  campaignsModule,
  flowsModule,
  tasksModule,
  surveysModule,
  subscriptionsModule,
  crmModule,
  webhooksModule,
  storefrontModule,
  apikeysModule,
  usersModule,
  jobsModule,
  outboxModule,
];

// Services reach every module's erase/merge hooks through the kit (they may not import this file).
registerCustomerHooks(
  MODULES.flatMap((m) => (m.customerHooks ? [{ module: m.name, ...m.customerHooks }] : [])),
);
// The customer timeline reads every module's source through the kit too (src/kit/timeline.ts).
registerTimelineSources(MODULES.flatMap((m) => (m.timeline ? [{ module: m.name, ...m.timeline }] : [])));

/** Every module's job handlers by kind (for `retain serve` and `retain worker`). */
export async function jobHandlers(): Promise<Record<string, JobHandler>> {
  const all: Record<string, JobHandler> = {};
  for (const m of MODULES) {
    for (const [kind, handler] of Object.entries((await m.jobs?.()) ?? {})) {
      if (kind in all) throw new Error(`job kind ${kind} is declared by two modules`);
      all[kind] = handler;
    }
  }
  return all;
}

/**
 * Every module's cron schedules, validated (for `retain serve` and `retain worker`); a schedule name
 * declared twice is an error.
 */
export async function moduleSchedules(): Promise<Schedule[]> {
  const { parseSchedules } = await import('../kit/schedule.js');
  return parseSchedules(MODULES.flatMap((m) => m.schedules ?? []));
}

/** Every module's domain-event subscribers (for the dispatcher of `retain serve`). */
export async function allSubscribers(): Promise<Subscriber[]> {
  const all: Subscriber[] = [];
  for (const m of MODULES) all.push(...((await m.subscribers?.()) ?? []));
  return all;
}
