import pino from 'pino';
import { ManualClock, type Clock } from '../../src/kit/clock.js';
import type { ModuleContext } from '../../src/kit/context.js';
import { JobQueue } from '../../src/modules/jobs/service.js';
import type { Database } from '../../src/storage/port.js';

/** Test helper: a module context on `db` with a manual clock (default 2026-01-01) and a silent log. */
export function testContext(
  db: Database,
  clock: Clock = new ManualClock('2026-01-01T00:00:00Z'),
): ModuleContext {
  return { db, clock, jobs: new JobQueue(db, clock), log: pino({ level: 'silent' }) };
}
