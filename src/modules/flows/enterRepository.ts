import type { Queryable, SqlValue } from '../../storage/port.js';
import type { RunRow } from './repository.js';

/**
 * The entering SQL of the flows' subscriber (docs/flows.md), set-based: a batch of domain events costs
 * a few statements whatever its size — one read of the runs the re-entry rules look at, one insert of
 * the runs entered — not a look-up per event and flow.
 */

/** A run the entering looks at: its pair's latest (the re-entry rules) or one whose key is in the batch. */
export interface EntryRun {
  flow_id: number;
  customer_id: number;
  occurrence: string;
  status: RunRow['status'];
  entered_at: Date;
  /** The latest run of its flow and customer (any status). */
  latest: boolean;
  [k: string]: unknown;
}

const CHUNK = 500;

function marks(params: SqlValue[], values: readonly SqlValue[]): string {
  return values
    .map((v) => {
      params.push(v);
      return `$${params.length}`;
    })
    .join(', ');
}

/**
 * For the flows and customers given: each flow × customer's latest run (in the order `latestRun`
 * reads: entered last, the larger id first), and any other run whose occurrence is one of `occurrences`
 * (the keys the batch would insert: an event delivered again finds its run).
 */
export async function runsForEntry(
  db: Queryable,
  o: { flowIds: readonly number[]; customerIds: readonly number[]; occurrences: readonly string[] },
): Promise<EntryRun[]> {
  if (o.flowIds.length === 0 || o.customerIds.length === 0) return [];
  const out: EntryRun[] = [];
  for (let i = 0; i < o.customerIds.length; i += CHUNK) {
    const params: SqlValue[] = [];
    const flows = marks(params, o.flowIds);
    const customers = marks(params, o.customerIds.slice(i, i + CHUNK));
    const keys = o.occurrences.length ? ` OR occurrence IN (${marks(params, o.occurrences)})` : '';
    out.push(
      ...(await db.query<EntryRun>(
        `SELECT flow_id, customer_id, occurrence, status, entered_at, rn = 1 AS latest FROM (
           SELECT flow_id, customer_id, occurrence, status, entered_at,
             ROW_NUMBER() OVER (PARTITION BY flow_id, customer_id ORDER BY entered_at DESC, run_id DESC) AS rn
           FROM flow_runs WHERE flow_id IN (${flows}) AND customer_id IN (${customers})) x
         WHERE rn = 1${keys}`,
        params,
      )),
    );
  }
  return out;
}

export interface NewRun {
  flowId: number;
  version: number;
  customerId: number;
  occurrence: string;
  status: 'active' | 'holdout';
  step: string | null;
}

/**
 * Enters customers, in the order given (run ids follow it): one INSERT per 500 runs, each run once per
 * flow, customer and occurrence (the unique key: a run already there is left as it is). Returns the runs
 * inserted.
 */
export async function insertRuns(
  tx: Queryable,
  runs: readonly NewRun[],
  now: Date,
): Promise<{ run_id: number; status: NewRun['status'] }[]> {
  const out: { run_id: number; status: NewRun['status'] }[] = [];
  for (let i = 0; i < runs.length; i += CHUNK) {
    const params: SqlValue[] = [now];
    const values = runs.slice(i, i + CHUNK).map((r, k) => {
      params.push(i + k, r.flowId, r.version, r.customerId, r.occurrence, r.status, r.step);
      const n = params.length;
      return `(CAST($${n - 6} AS INTEGER), CAST($${n - 5} AS BIGINT), CAST($${n - 4} AS INTEGER), CAST($${n - 3} AS BIGINT),
        CAST($${n - 2} AS TEXT), CAST($${n - 1} AS TEXT), CAST($${n} AS TEXT))`;
    });
    out.push(
      ...(await tx.query<{ run_id: number; status: NewRun['status'] }>(
        `INSERT INTO flow_runs (flow_id, version, customer_id, occurrence, status, holdout, step, next_at, entered_at, updated_at)
         SELECT v.flow_id, v.version, v.customer_id, v.occurrence, v.status, v.status = 'holdout', v.step,
           CASE WHEN v.status = 'active' THEN $1::timestamp END, $1::timestamp, $1::timestamp
         FROM (VALUES ${values.join(', ')}) AS v(ord, flow_id, version, customer_id, occurrence, status, step)
         ORDER BY v.ord
         ON CONFLICT (flow_id, customer_id, occurrence) DO NOTHING RETURNING run_id, status`,
        params,
      )),
    );
  }
  return out;
}

/** Every version of every flow (their goals: a run of any of them may be open). */
export async function flowVersions(db: Queryable): Promise<{ flow_id: number; version: number }[]> {
  return db.query<{ flow_id: number; version: number }>(
    `SELECT flow_id, version FROM flow_versions ORDER BY flow_id, version`,
  );
}
