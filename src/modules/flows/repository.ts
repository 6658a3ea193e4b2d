import type { Queryable, SqlValue } from '../../storage/port.js';
import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import { netRevenueSql } from '../orders/revenueSql.js';

/** The flows module's SQL (docs/flows.md). */

export type FlowRow = {
  flow_id: number;
  name: string;
  status: 'draft' | 'active' | 'paused' | 'archived';
  version: number;
  created_at: Date;
  updated_at: Date;
  activated_at: Date | null;
};

const FLOW = `flow_id, name, status, version, created_at, updated_at, activated_at`;

export async function flowByName(db: Queryable, name: string): Promise<FlowRow | null> {
  const [r] = await db.query<FlowRow>(`SELECT ${FLOW} FROM flows WHERE name = $1`, [name]);
  return r ?? null;
}

export async function listFlows(db: Queryable): Promise<FlowRow[]> {
  return db.query<FlowRow>(`SELECT ${FLOW} FROM flows ORDER BY name`);
}

/** The flow, created as a draft at version 1 or given its next version; the version written. */
export async function saveVersion(
  tx: Queryable,
  o: { name: string; definition: string; now: Date; by: string | null },
): Promise<{ flowId: number; version: number }> {
  await tx.exec(
    `INSERT INTO flows (name, status, version, created_at, updated_at) VALUES ($1, 'draft', 0, $2::timestamp, $2::timestamp)
     ON CONFLICT (name) DO NOTHING`,
    [o.name, o.now],
  );
  const [f] = await tx.query<{ flow_id: number; version: number }>(
    `UPDATE flows SET version = version + 1, updated_at = $2::timestamp WHERE name = $1 RETURNING flow_id, version`,
    [o.name, o.now],
  );
  await tx.exec(
    `INSERT INTO flow_versions (flow_id, version, definition, created_at, created_by) VALUES ($1, $2, $3, $4::timestamp, $5)`,
    [f!.flow_id, f!.version, o.definition, o.now, o.by],
  );
  return { flowId: f!.flow_id, version: f!.version };
}

export async function definitionOf(db: Queryable, flowId: number, version: number): Promise<string | null> {
  const [r] = await db.query<{ definition: string }>(
    `SELECT definition FROM flow_versions WHERE flow_id = $1 AND version = $2`,
    [flowId, version],
  );
  return r?.definition ?? null;
}

export async function versionsOf(db: Queryable, flowId: number) {
  return db.query<{ version: number; created_at: Date; created_by: string | null }>(
    `SELECT version, created_at, created_by FROM flow_versions WHERE flow_id = $1 ORDER BY version`,
    [flowId],
  );
}

/** Moves a flow's status when it is one of `from`; whether it moved. */
export async function moveStatus(
  tx: Queryable,
  flowId: number,
  from: readonly FlowRow['status'][],
  to: FlowRow['status'],
  now: Date,
): Promise<boolean> {
  const r = await tx.query(
    `UPDATE flows SET status = $2, updated_at = $3::timestamp,
       activated_at = CASE WHEN $2 = 'active' THEN COALESCE(activated_at, $3::timestamp) ELSE activated_at END
     WHERE flow_id = $1 AND status IN (${from.map((_, i) => `$${i + 4}`).join(', ')}) RETURNING flow_id`,
    [flowId, to, now, ...from],
  );
  return r.length > 0;
}

export async function activeFlows(db: Queryable): Promise<FlowRow[]> {
  return db.query<FlowRow>(`SELECT ${FLOW} FROM flows WHERE status = 'active' ORDER BY flow_id`);
}

// ---- runs ----

export type RunRow = {
  run_id: number;
  flow_id: number;
  version: number;
  customer_id: number;
  occurrence: string;
  status: 'active' | 'holdout' | 'goal' | 'completed' | 'exited';
  step: string | null;
  next_at: Date | null;
  entered_at: Date;
};

const RUN = `run_id, flow_id, version, customer_id, occurrence, status, step, next_at, entered_at`;

/** The customer's latest run of the flow (any status), for the re-entry rules. */
export async function latestRun(db: Queryable, flowId: number, customerId: number): Promise<RunRow | null> {
  const [r] = await db.query<RunRow>(
    `SELECT ${RUN} FROM flow_runs WHERE flow_id = $1 AND customer_id = $2 ORDER BY entered_at DESC, run_id DESC LIMIT 1`,
    [flowId, customerId],
  );
  return r ?? null;
}

/** Enters a customer (once per flow, customer and occurrence: the unique key); the run id, or null. */
export async function insertRun(
  tx: Queryable,
  r: {
    flowId: number;
    version: number;
    customerId: number;
    occurrence: string;
    status: 'active' | 'holdout';
    step: string | null;
    now: Date;
  },
): Promise<number | null> {
  const rows = await tx.query<{ run_id: number }>(
    `INSERT INTO flow_runs (flow_id, version, customer_id, occurrence, status, holdout, step, next_at, entered_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5 = 'holdout', $6, CASE WHEN $5 = 'active' THEN $7::timestamp END, $7::timestamp, $7::timestamp)
     ON CONFLICT (flow_id, customer_id, occurrence) DO NOTHING RETURNING run_id`,
    [r.flowId, r.version, r.customerId, r.occurrence, r.status, r.step, r.now],
  );
  return rows[0]?.run_id ?? null;
}

/** What entered a run by a time condition (JSON), for its templates. */
export async function insertRunContext(tx: Queryable, runId: number, customerId: number, context: string) {
  await tx.exec(
    `INSERT INTO flow_run_context (run_id, customer_id, context) VALUES ($1, $2, $3) ON CONFLICT (run_id) DO NOTHING`,
    [runId, customerId, context],
  );
}

export async function runContext(db: Queryable, runId: number): Promise<string | null> {
  const [r] = await db.query<{ context: string }>(`SELECT context FROM flow_run_context WHERE run_id = $1`, [
    runId,
  ]);
  return r?.context ?? null;
}

/** A generated code for the run's step; false when the code is taken (the caller draws another). */
export async function insertCode(
  tx: Queryable,
  c: {
    code: string;
    flowId: number;
    runId: number;
    step: string;
    customerId: number;
    kind: 'percent' | 'amount';
    value: number;
    expiresAt: Date;
    now: Date;
  },
): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO flow_codes (code, flow_id, run_id, step, customer_id, kind, value, expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamp, $9::timestamp) ON CONFLICT DO NOTHING RETURNING code`,
    [c.code, c.flowId, c.runId, c.step, c.customerId, c.kind, c.value, c.expiresAt, c.now],
  );
  return rows.length > 0;
}

export async function codeCount(db: Queryable, flowId: number): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM flow_codes WHERE flow_id = $1`,
    [flowId],
  );
  return r?.n ?? 0;
}

/** Orders that used one of the flow's codes: count and net total per currency. */
export async function codeOrders(db: Queryable, flowId: number) {
  return db.query<{ currency: string; orders: number; total: number }>(
    `SELECT o.currency, CAST(COUNT(DISTINCT o.order_id) AS INTEGER) AS orders, CAST(SUM(o.total_minor) AS BIGINT) AS total
     FROM flow_codes k JOIN order_discount_codes d ON d.code = k.code JOIN orders o ON o.order_id = d.order_id
     WHERE k.flow_id = $1 GROUP BY o.currency ORDER BY o.currency`,
    [flowId],
  );
}

/** Runs due now, oldest first. */
export async function dueRuns(db: Queryable, now: Date, limit: number): Promise<RunRow[]> {
  return db.query<RunRow>(
    `SELECT r.run_id, r.flow_id, r.version, r.customer_id, r.occurrence, r.status, r.step, r.next_at, r.entered_at
     FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id
     WHERE r.status = 'active' AND r.next_at <= $1::timestamp AND f.status = 'active'
     ORDER BY r.next_at, r.run_id LIMIT ${Math.max(1, Math.floor(limit))}`,
    [now],
  );
}

/**
 * Moves a run from the position it was read at (the claim: of two workers, one moves it) to its next
 * step and due time, or ends it. Whether it moved.
 */
export async function moveRun(
  tx: Queryable,
  o: {
    runId: number;
    fromStep: string | null;
    step: string | null;
    nextAt: Date | null;
    status: RunRow['status'];
    reason: string | null;
    now: Date;
  },
): Promise<boolean> {
  const ended = o.status !== 'active';
  const rows = await tx.query(
    `UPDATE flow_runs SET step = $3, next_at = $4::timestamp, status = $5, reason = $6, updated_at = $7::timestamp,
       ended_at = CASE WHEN $8 THEN $7::timestamp ELSE ended_at END
     WHERE run_id = $1 AND status = 'active' AND step IS NOT DISTINCT FROM $2 RETURNING run_id`,
    [o.runId, o.fromStep, o.step, o.nextAt, o.status, o.reason, o.now, ended],
  );
  return rows.length > 0;
}

/** Records a step taken (the primary key: at most once per run). Whether it was new. */
export async function takeStep(
  tx: Queryable,
  o: { runId: number; step: string; customerId: number; outcome: string; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO flow_steps (run_id, step, customer_id, taken_at, outcome) VALUES ($1, $2, $3, $4::timestamp, $5)
     ON CONFLICT (run_id, step) DO NOTHING RETURNING run_id`,
    [o.runId, o.step, o.customerId, o.now, o.outcome],
  );
  return rows.length > 0;
}

/** When the run took the step (null: not yet). */
export async function stepTakenAt(db: Queryable, runId: number, step: string): Promise<Date | null> {
  const [r] = await db.query<{ taken_at: Date }>(
    `SELECT taken_at FROM flow_steps WHERE run_id = $1 AND step = $2`,
    [runId, step],
  );
  return r?.taken_at ?? null;
}

/** Wakes a run waiting at `step` (a waitFor whose event came): due now. Whether it was waiting there. */
export async function wakeRun(tx: Queryable, runId: number, step: string, now: Date): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE flow_runs SET next_at = $3::timestamp, updated_at = $3::timestamp
     WHERE run_id = $1 AND step = $2 AND status = 'active' AND next_at > $3::timestamp RETURNING run_id`,
    [runId, step, now],
  );
  return rows.length > 0;
}

/** The customer's active (or holdout) runs of flows whose goal may be this event. */
export async function openRunsOf(db: Queryable, customerIds: readonly number[]) {
  if (customerIds.length === 0) return [];
  return db.query<RunRow>(
    `SELECT ${RUN} FROM flow_runs WHERE status IN ('active', 'holdout')
       AND customer_id IN (${customerIds.map((_, i) => `$${i + 1}`).join(', ')})`,
    [...customerIds],
  );
}

/** Ends a run by its goal (the holdout's too: a conversion). */
export async function endByGoal(tx: Queryable, runId: number, now: Date, reason: string): Promise<boolean> {
  const rows = await tx.query(
    `UPDATE flow_runs SET status = 'goal', next_at = NULL, reason = $3, updated_at = $2::timestamp, ended_at = $2::timestamp
     WHERE run_id = $1 AND status IN ('active', 'holdout') RETURNING run_id`,
    [runId, now, reason],
  );
  return rows.length > 0;
}

export async function runCounts(db: Queryable, flowId: number) {
  return db.query<{ status: string; n: number }>(
    `SELECT status, CAST(COUNT(*) AS INTEGER) AS n FROM flow_runs WHERE flow_id = $1 GROUP BY status`,
    [flowId],
  );
}

export async function customerOf(db: Queryable, customerId: number) {
  const [r] = await db.query<{ external_id: string; time_zone: string | null }>(
    `SELECT external_id, time_zone FROM customers WHERE customer_id = $1`,
    [customerId],
  );
  return r ?? null;
}

export async function eraseCustomerFlows(tx: Queryable, customerId: number): Promise<void> {
  // Runs end (nothing more is sent); the steps taken stay as counts without the person.
  await tx.exec(
    `UPDATE flow_runs SET status = 'exited', next_at = NULL, reason = 'erased' WHERE customer_id = $1 AND status IN ('active', 'holdout')`,
    [customerId],
  );
  // What entered them may name a product they bought: gone with them.
  await tx.exec(`DELETE FROM flow_run_context WHERE customer_id = $1`, [customerId]);
}

/**
 * Merge hook: the merged customers' runs become the survivor's (the same person: re-entry rules see
 * them). Their runs in flight end (the survivor's own go on); a run whose key the survivor has already
 * (`once`) keeps its history under an occurrence naming the merged customer.
 */
export async function mergeCustomerFlows(tx: Queryable, fromIds: readonly number[], intoId: number) {
  if (fromIds.length === 0) return;
  const from = fromIds.map((_, i) => `$${i + 2}`).join(', ');
  const params = [intoId, ...fromIds];
  await tx.exec(
    `UPDATE flow_runs SET status = 'exited', next_at = NULL, reason = 'merged', ended_at = updated_at
     WHERE customer_id IN (${fromIds.map((_, i) => `$${i + 1}`).join(', ')}) AND status IN ('active', 'holdout')`,
    [...fromIds],
  );
  await tx.exec(
    `UPDATE flow_runs SET occurrence = occurrence || ':merged:' || CAST(customer_id AS TEXT)
     WHERE customer_id IN (${from}) AND EXISTS (SELECT 1 FROM flow_runs y WHERE y.flow_id = flow_runs.flow_id
       AND y.customer_id = $1 AND y.occurrence = flow_runs.occurrence)`,
    params,
  );
  await tx.exec(`UPDATE flow_runs SET customer_id = $1 WHERE customer_id IN (${from})`, params);
  await tx.exec(`UPDATE flow_steps SET customer_id = $1 WHERE customer_id IN (${from})`, params);
  await tx.exec(`UPDATE flow_run_context SET customer_id = $1 WHERE customer_id IN (${from})`, params);
  await tx.exec(`UPDATE flow_codes SET customer_id = $1 WHERE customer_id IN (${from})`, params);
}

/**
 * Each run of the flow entered in `[from, to)` with its customer's net revenue in the `days` after the
 * entry (sale orders in `currency` less refunds) — the treated runs and the holdout's alike.
 */
export async function runRevenue(
  db: Queryable,
  o: { flowId: number; currency: string; days: number; from: Date; to: Date },
) {
  const days = Math.max(1, Math.floor(o.days));
  return db.query<{ run_id: number; holdout: boolean; status: string; revenue: number }>(
    `SELECT r.run_id, r.holdout, r.status, ${netRevenueSql('r.customer_id', '$2', 'r.entered_at', `r.entered_at + INTERVAL '${days} days'`)} AS revenue
     FROM flow_runs r WHERE r.flow_id = $1 AND r.entered_at >= $3::timestamp AND r.entered_at < $4::timestamp
     ORDER BY r.run_id`,
    [o.flowId, o.currency, o.from, o.to],
  );
}

/** The flow's messages by step and status. */
export async function sendsOf(db: Queryable, source: string) {
  return db.query<{ step: string; status: string; n: number }>(
    `SELECT step, status, CAST(COUNT(*) AS INTEGER) AS n FROM message_sends WHERE source = $1 GROUP BY step, status ORDER BY step, status`,
    [source],
  );
}

/**
 * The recorded domain events of `type` (with `label`, when given) in `[from, to)` per customer: how many,
 * and whether the customer has a run of the flow already (any) or one in flight.
 */
export async function triggerHistory(
  db: Queryable,
  o: { flowId: number; type: string; label: string | null; from: Date; to: Date },
) {
  return db.query<{
    customer_id: number;
    external_id: string;
    events: number;
    runs: number;
    in_flight: number;
    last_entry: Date | null;
  }>(
    `SELECT e.customer_id, c.external_id, CAST(COUNT(*) AS INTEGER) AS events,
       CAST((SELECT COUNT(*) FROM flow_runs r WHERE r.flow_id = $1 AND r.customer_id = e.customer_id) AS INTEGER) AS runs,
       CAST((SELECT COUNT(*) FROM flow_runs r WHERE r.flow_id = $1 AND r.customer_id = e.customer_id
               AND r.status = 'active') AS INTEGER) AS in_flight,
       (SELECT MAX(r.entered_at) FROM flow_runs r WHERE r.flow_id = $1 AND r.customer_id = e.customer_id) AS last_entry
     FROM domain_events e JOIN customers c ON c.customer_id = e.customer_id
     WHERE e.type = $2 AND ($3::text IS NULL OR e.label = $3::text)
       AND e.occurred_at >= $4::timestamp AND e.occurred_at < $5::timestamp AND c.erased_at IS NULL
     GROUP BY e.customer_id, c.external_id ORDER BY e.customer_id`,
    [o.flowId, o.type, o.label, o.from, o.to],
  );
}

/**
 * Timeline source: the customer's flow runs — `flow.entered` (the flow and version, whether the run was
 * drawn into the holdout) and `flow.ended` (goal, completed or exited, and why).
 */
export async function flowTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const parts: Record<string, string> = {
    'flow.entered': `SELECT 'flow.entered' AS kind, r.run_id, r.entered_at AS at, f.name, r.version, r.holdout,
        r.status, r.reason, r.occurrence
      FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id WHERE r.customer_id = $1`,
    'flow.ended': `SELECT 'flow.ended' AS kind, r.run_id, r.ended_at AS at, f.name, r.version, r.holdout,
        r.status, r.reason, r.occurrence
      FROM flow_runs r JOIN flows f ON f.flow_id = r.flow_id WHERE r.customer_id = $1 AND r.ended_at IS NOT NULL`,
  };
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    kind: 'flow.entered' | 'flow.ended';
    run_id: number;
    at: Date;
    name: string;
    version: number;
    holdout: boolean;
    status: string;
    reason: string | null;
    occurrence: string;
  }>(
    `SELECT * FROM (${q.kinds
      .filter((k) => k in parts)
      .map((k) => parts[k])
      .join(' UNION ALL ')}) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => ({
    at: r.at,
    kind: r.kind,
    ref: String(r.run_id),
    title:
      r.kind === 'flow.entered'
        ? `entered flow "${r.name}" (v${r.version})${r.holdout ? ', in the holdout' : ''}`
        : `left flow "${r.name}": ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
    detail: r.kind === 'flow.entered' ? (r.holdout ? 'holdout' : null) : r.status,
    properties: {
      flow: r.name,
      version: r.version,
      run: r.run_id,
      holdout: r.holdout,
      status: r.status,
      reason: r.reason,
      occurrence: r.occurrence,
    },
  }));
}
