import type { Database, Queryable } from '../../storage/port.js';
import { insertJob } from './repository.js';

export interface ScheduleState {
  name: string;
  lastSlot: Date;
  updatedAt: Date;
  updatedBy: string | null;
}

interface StateRow {
  name: string;
  last_slot: Date;
  updated_at: Date;
  updated_by: string | null;
}

export async function scheduleState(db: Queryable, name: string): Promise<ScheduleState | undefined> {
  const [r] = await db.query<StateRow & Record<string, unknown>>(
    `SELECT name, last_slot, updated_at, updated_by FROM schedule_state WHERE name = $1`,
    [name],
  );
  return (
    r && {
      name: r.name,
      lastSlot: r.last_slot,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
    }
  );
}

/**
 * Advances the schedule's `last_slot` to `slot` if it is behind (compare-and-set), creating the row
 * for a schedule never seen; true when this caller moved it, false when another runner (or an
 * earlier poll) already had. Postgres: the UPDATE locks the row, so a concurrent caller waits and then
 * finds `last_slot` no longer behind; two first inserts meet on the primary key.
 */
export async function advanceSlot(
  tx: Queryable,
  s: { name: string; slot: Date; now: Date; workerId: string },
): Promise<boolean> {
  const moved = await tx.exec(
    `UPDATE schedule_state SET last_slot = $2::timestamp, updated_at = $3::timestamp, updated_by = $4
     WHERE name = $1 AND last_slot < $2::timestamp`,
    [s.name, s.slot, s.now, s.workerId],
  );
  if (moved > 0) return true;
  const created = await tx.exec(
    `INSERT INTO schedule_state (name, last_slot, updated_at, updated_by)
     VALUES ($1, $2::timestamp, $3::timestamp, $4) ON CONFLICT DO NOTHING`,
    [s.name, s.slot, s.now, s.workerId],
  );
  return created > 0;
}

/**
 * Decides one slot of a schedule in one transaction: advances its state (compare-and-set) and, when
 * `run`, enqueues the slot's job under its idempotency key. Returns the job id when this call
 * enqueued it, null when it advanced the state without a job (a dropped slot), undefined when the
 * slot had already been decided. A crash before the commit leaves neither the job nor the state.
 */
export async function decideSlot(
  db: Database,
  d: {
    name: string;
    slot: Date;
    now: Date;
    workerId: string;
    run: boolean;
    job: { kind: string; idempotencyKey: string; payload: unknown; maxAttempts: number };
  },
): Promise<number | null | undefined> {
  return db.transaction(async (tx) => {
    if (!(await advanceSlot(tx, d))) return undefined;
    if (!d.run) return null;
    const { job } = await insertJob(tx, db.dialect.jsonType, {
      ...d.job,
      runAt: d.slot,
      now: d.now,
    });
    return job.jobId;
  });
}
