import type { ManualClock } from '../../src/kit/clock.js';
import type { JobRunner } from '../../src/modules/jobs/service.js';
import { openStore } from '../../src/modules/store.js';
import type { Database } from '../../src/storage/port.js';

/**
 * Simulated time for the job runner: moves `clock` forward to `until`, stopping at every schedule
 * slot on the way (and at least every `stepMs` when given, to poll between slots as a live runner
 * does), and drains every runner at each stop — due schedule slots are enqueued, then due jobs run.
 * Runners drain one after another unless `concurrent`. Returns the number of jobs attempted.
 */
export async function runUntil(
  clock: ManualClock,
  runners: JobRunner | readonly JobRunner[],
  until: Date | string,
  opts: { stepMs?: number; concurrent?: boolean } = {},
): Promise<number> {
  const all = Array.isArray(runners) ? runners : [runners as JobRunner];
  const end = new Date(until).getTime();
  let attempted = 0;
  const drainAll = async () => {
    if (opts.concurrent) {
      for (const n of await Promise.all(all.map((r) => r.drain()))) attempted += n;
    } else {
      for (const r of all) attempted += await r.drain();
    }
  };
  await drainAll();
  while (clock.now().getTime() < end) {
    const now = clock.now().getTime();
    let next = end;
    if (opts.stepMs !== undefined) next = Math.min(next, now + opts.stepMs);
    for (const r of all) {
      const slot = r.nextSlotAt();
      if (slot) next = Math.min(next, slot.getTime());
    }
    clock.set(new Date(next));
    await drainAll();
  }
  return attempted;
}

let counter = 0;

/**
 * Two stores on the same Postgres schema through separate connection pools (two worker processes'
 * view of one database); `dispose` drops the schema.
 */
export async function sharedPostgres(
  url: string,
): Promise<{ a: Database; b: Database; dispose: () => Promise<void> }> {
  const schema = `t_${process.pid}_${Date.now().toString(36)}_s${counter++}`;
  const a = await openStore({ databaseUrl: url, schema });
  const b = await openStore({ databaseUrl: url, schema });
  return {
    a,
    b,
    dispose: async () => {
      await b.close();
      await a.exec(`DROP SCHEMA ${schema} CASCADE`);
      await a.close();
    },
  };
}
