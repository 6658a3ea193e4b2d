import { newestFirst, type TimelineEntry, type TimelineQuery } from '../../kit/timeline.js';
import type { Queryable, SqlValue } from '../../storage/port.js';
import { valuesList } from '../../storage/values.js';
import { REFUNDS_BY_ORDER_CTE, SALE_ORDERS_CTE } from '../reports/repository.js';

export interface SurveyDbRow {
  survey_id: number;
  name: string;
  kind: 'nps' | 'csat';
  definition: string;
  template: string;
  status: 'active' | 'archived';
  created_at: Date;
  updated_at: Date;
}

const SURVEY_COLUMNS = 'survey_id, name, kind, definition, template, status, created_at, updated_at';

export async function surveyByName(db: Queryable, name: string): Promise<SurveyDbRow | undefined> {
  const [r] = await db.query<SurveyDbRow & Record<string, unknown>>(
    `SELECT ${SURVEY_COLUMNS} FROM surveys WHERE name = $1`,
    [name],
  );
  return r;
}

export async function listSurveys(db: Queryable): Promise<SurveyDbRow[]> {
  return db.query<SurveyDbRow & Record<string, unknown>>(
    `SELECT ${SURVEY_COLUMNS} FROM surveys ORDER BY name`,
  );
}

/** Saves a survey (a new one, or a new definition of one; its round-robin position stays). */
export async function saveSurvey(
  tx: Queryable,
  s: { name: string; kind: string; definition: string; template: string; now: Date },
): Promise<void> {
  await tx.exec(
    `INSERT INTO surveys (name, kind, definition, template, status, rr_next, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'active', 0, $5::timestamp, $5::timestamp)
     ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, definition = excluded.definition,
       template = excluded.template, status = 'active', updated_at = excluded.updated_at`,
    [s.name, s.kind, s.definition, s.template, s.now],
  );
}

export async function setSurveyStatus(tx: Queryable, name: string, status: string, now: Date) {
  return tx.exec(`UPDATE surveys SET status = $2, updated_at = $3::timestamp WHERE name = $1`, [
    name,
    status,
    now,
  ]);
}

/** An order by the store's id (its internal id and customer). */
export async function orderOf(
  db: Queryable,
  externalId: string,
): Promise<{ order_id: number; customer_id: number | null } | undefined> {
  const [r] = await db.query<{ order_id: number; customer_id: number | null }>(
    `SELECT order_id, customer_id FROM orders WHERE external_id = $1`,
    [externalId],
  );
  return (
    r && { order_id: Number(r.order_id), customer_id: r.customer_id === null ? null : Number(r.customer_id) }
  );
}

export interface NewInvitation {
  invitationId: string;
  customerId: number;
  sendKey: string;
}

/** Inserts invitations; one that exists (survey × customer × occurrence) is left. Returns the new ones. */
export async function insertInvitations(
  tx: Queryable,
  s: {
    surveyId: number;
    occurrence: string;
    source: string;
    channel: string;
    now: Date;
    expiresAt: Date;
    orderId: number | null;
  },
  rows: readonly NewInvitation[],
): Promise<Set<number>> {
  if (rows.length === 0) return new Set();
  const params: SqlValue[] = [s.surveyId, s.occurrence, s.source, s.channel, s.now, s.expiresAt, s.orderId];
  const values = valuesList(
    params,
    rows.map((r) => [r.invitationId, r.customerId, r.sendKey]),
  );
  const inserted = await tx.query<{ customer_id: number }>(
    `INSERT INTO survey_invitations (invitation_id, survey_id, customer_id, occurrence, source, channel, send_key,
       status, invited_at, expires_at, order_id)
     SELECT CAST(v.id AS TEXT), $1, CAST(v.customer_id AS BIGINT), $2, $3, $4, CAST(v.send_key AS TEXT), 'open',
       $5::timestamp, $6::timestamp, CAST($7 AS BIGINT)
     FROM (VALUES ${values}) AS v(id, customer_id, send_key)
     ON CONFLICT (survey_id, customer_id, occurrence) DO NOTHING
     RETURNING customer_id`,
    params,
  );
  return new Set(inserted.map((r) => Number(r.customer_id)));
}

export async function deleteInvitations(
  tx: Queryable,
  surveyId: number,
  occurrence: string,
  customerIds: readonly number[],
) {
  if (customerIds.length === 0) return;
  await tx.exec(
    `DELETE FROM survey_invitations WHERE survey_id = $1 AND occurrence = $2
       AND customer_id IN (${customerIds.map((_, i) => `$${i + 3}`).join(', ')})`,
    [surveyId, occurrence, ...customerIds],
  );
}

/**
 * The throttle, as one compare-and-set: each customer's `last_invited_at` moves to now only if it is
 * at or before `cutoff` (or the customer has none). Returns the customers it moved: those may be invited.
 */
export async function claimThrottle(
  tx: Queryable,
  customerIds: readonly number[],
  now: Date,
  cutoff: Date,
): Promise<Set<number>> {
  if (customerIds.length === 0) return new Set();
  const params: SqlValue[] = [now, cutoff];
  const values = valuesList(
    params,
    customerIds.map((id) => [id]),
  );
  const rows = await tx.query<{ customer_id: number }>(
    `INSERT INTO survey_throttle (customer_id, last_invited_at)
     SELECT CAST(v.customer_id AS BIGINT), $1::timestamp FROM (VALUES ${values}) AS v(customer_id)
     ON CONFLICT (customer_id) DO UPDATE SET last_invited_at = excluded.last_invited_at
       WHERE survey_throttle.last_invited_at <= $2::timestamp
     RETURNING customer_id`,
    params,
  );
  return new Set(rows.map((r) => Number(r.customer_id)));
}

export interface InvitationDbRow {
  invitation_id: string;
  survey_id: number;
  survey_name: string;
  kind: 'nps' | 'csat';
  definition: string;
  customer_id: number;
  external_id: string;
  locale: string | null;
  status: 'open' | 'closed';
  expires_at: Date;
  score: number | null;
  why: string | null;
  task_id: number | null;
}

export async function invitationById(db: Queryable, id: string): Promise<InvitationDbRow | undefined> {
  const [r] = await db.query<InvitationDbRow & Record<string, unknown>>(
    `SELECT i.invitation_id, i.survey_id, s.name AS survey_name, s.kind, s.definition, i.customer_id,
            c.external_id, c.locale, i.status, i.expires_at, a.score, a.why, a.task_id
     FROM survey_invitations i
     JOIN surveys s ON s.survey_id = i.survey_id
     JOIN customers c ON c.customer_id = i.customer_id
     LEFT JOIN survey_answers a ON a.invitation_id = i.invitation_id
     WHERE i.invitation_id = $1`,
    [id],
  );
  return r;
}

/** The invitation's one answer: inserted at the first score, updated by a later one while it is open. */
export async function saveScore(
  tx: Queryable,
  a: { invitationId: string; surveyId: number; customerId: number; score: number; locale: string; now: Date },
): Promise<void> {
  await tx.exec(
    `INSERT INTO survey_answers (invitation_id, survey_id, customer_id, score, why, locale, task_id, answered_at, updated_at)
     VALUES ($1, $2, $3, $4, NULL, $5, NULL, $6::timestamp, $6::timestamp)
     ON CONFLICT (invitation_id) DO UPDATE SET score = excluded.score, updated_at = excluded.updated_at`,
    [a.invitationId, a.surveyId, a.customerId, a.score, a.locale, a.now],
  );
}

/** Closes an open invitation (the "why" answered); false when it was not open. */
export async function closeInvitation(tx: Queryable, id: string): Promise<boolean> {
  const rows = await tx.query<{ invitation_id: string }>(
    `UPDATE survey_invitations SET status = 'closed' WHERE invitation_id = $1 AND status = 'open'
     RETURNING invitation_id`,
    [id],
  );
  return rows.length > 0;
}

export async function saveWhy(tx: Queryable, id: string, why: string, now: Date): Promise<void> {
  await tx.exec(`UPDATE survey_answers SET why = $2, updated_at = $3::timestamp WHERE invitation_id = $1`, [
    id,
    why,
    now,
  ]);
}

export async function setAnswerTask(tx: Queryable, id: string, taskId: number): Promise<void> {
  await tx.exec(`UPDATE survey_answers SET task_id = $2 WHERE invitation_id = $1`, [id, taskId]);
}

export async function answerTaskOf(db: Queryable, id: string): Promise<number | null> {
  const [r] = await db.query<{ task_id: number | null }>(
    `SELECT task_id FROM survey_answers WHERE invitation_id = $1`,
    [id],
  );
  return r?.task_id ?? null;
}

/** The next position of the survey's round robin (0, 1, 2, …), taken atomically. */
export async function nextTurn(tx: Queryable, surveyId: number): Promise<number> {
  const [r] = await tx.query<{ rr_next: number }>(
    `UPDATE surveys SET rr_next = rr_next + 1 WHERE survey_id = $1 RETURNING rr_next`,
    [surveyId],
  );
  return Number(r?.rr_next ?? 1) - 1;
}

export interface AnswerDbRow {
  invitation_id: string;
  external_id: string;
  score: number;
  why: string | null;
  locale: string | null;
  answered_at: Date;
  task_id: number | null;
}

export async function answersOf(db: Queryable, surveyId: number): Promise<AnswerDbRow[]> {
  return db.query<AnswerDbRow & Record<string, unknown>>(
    `SELECT a.invitation_id, c.external_id, a.score, a.why, a.locale, a.answered_at, a.task_id
     FROM survey_answers a JOIN customers c ON c.customer_id = a.customer_id
     WHERE a.survey_id = $1 ORDER BY a.answered_at, a.invitation_id`,
    [surveyId],
  );
}

/** A keyset page of a survey's answers, newest first, optionally only scores in [min, max]. */
export async function answersPage(
  db: Queryable,
  surveyId: number,
  q: { limit: number; before?: { at: Date; id: string }; min?: number; max?: number },
): Promise<AnswerDbRow[]> {
  const params: SqlValue[] = [surveyId];
  const where = ['a.survey_id = $1'];
  if (q.before) {
    params.push(q.before.at, q.before.id);
    where.push(
      `(a.answered_at < $${params.length - 1}::timestamp OR (a.answered_at = $${params.length - 1}::timestamp AND a.invitation_id < $${params.length}))`,
    );
  }
  if (q.min !== undefined) where.push(`a.score >= $${params.push(q.min)}`);
  if (q.max !== undefined) where.push(`a.score <= $${params.push(q.max)}`);
  params.push(q.limit);
  return db.query<AnswerDbRow & Record<string, unknown>>(
    `SELECT a.invitation_id, c.external_id, a.score, a.why, a.locale, a.answered_at, a.task_id
     FROM survey_answers a JOIN customers c ON c.customer_id = a.customer_id
     WHERE ${where.join(' AND ')}
     ORDER BY a.answered_at DESC, a.invitation_id DESC LIMIT $${params.length}`,
    params,
  );
}

/** One answer with what the results cut it by: its task's state, its order, its customer's channel and CLV. */
export interface ResultAnswerRow {
  invitation_id: string;
  customer_id: number;
  score: number;
  answered_at: Date;
  task_status: string | null;
  order_id: number | null;
  channel: string | null;
  clv_minor: number | null;
}

/** Every answer of a survey with its context; `clv_minor` from the latest CLV prediction run. */
export async function resultAnswers(db: Queryable, surveyId: number): Promise<ResultAnswerRow[]> {
  const rows = await db.query<ResultAnswerRow & Record<string, unknown>>(
    `WITH run AS (
       SELECT model_version, as_of FROM clv_predictions ORDER BY as_of DESC, model_version DESC LIMIT 1
     )
     SELECT a.invitation_id, a.customer_id, a.score, a.answered_at, t.status AS task_status, i.order_id,
       c.acquisition_channel AS channel, p.clv_minor
     FROM survey_answers a
     JOIN survey_invitations i ON i.invitation_id = a.invitation_id
     JOIN customers c ON c.customer_id = a.customer_id
     LEFT JOIN tasks t ON t.task_id = a.task_id
     LEFT JOIN run ON 1 = 1
     LEFT JOIN clv_predictions p ON p.customer_id = a.customer_id AND p.model_version = run.model_version
       AND p.as_of = run.as_of
     WHERE a.survey_id = $1
     ORDER BY a.answered_at, a.invitation_id`,
    [surveyId],
  );
  return rows.map((r) => ({
    ...r,
    customer_id: Number(r.customer_id),
    order_id: r.order_id === null ? null : Number(r.order_id),
    clv_minor: r.clv_minor === null ? null : Number(r.clv_minor),
  }));
}

/** The latest CLV prediction run (what `clv_minor` above means), or null before any. */
export async function latestClvRun(
  db: Queryable,
): Promise<{ as_of: Date; horizon: number; time_unit: string; currency: string } | null> {
  const [r] = await db.query<{ as_of: Date; horizon: number; time_unit: string; currency: string }>(
    `SELECT as_of, horizon, time_unit, currency FROM clv_predictions
     ORDER BY as_of DESC, model_version DESC LIMIT 1`,
  );
  return r ?? null;
}

/**
 * The sale orders (before `asOf`, in `currency`, net of their attributed refunds: the reports'
 * definitions) of the customers who answered the survey, by customer and time.
 */
export async function answeringCustomersOrders(
  db: Queryable,
  q: { surveyId: number; asOf: Date; currency: string },
): Promise<{ order_id: number; customer_id: number; ordered_at: Date; net_minor: number }[]> {
  const rows = await db.query<{ order_id: number; customer_id: number; ordered_at: Date; net_minor: number }>(
    `WITH ${SALE_ORDERS_CTE}, ${REFUNDS_BY_ORDER_CTE}
     SELECT s.order_id, s.customer_id, s.ordered_at, s.revenue_minor - COALESCE(r.refund_minor, 0) AS net_minor
     FROM sale s LEFT JOIN order_refund r ON r.order_id = s.order_id
     WHERE s.customer_id IN (SELECT customer_id FROM survey_answers WHERE survey_id = $3)
     ORDER BY s.customer_id, s.ordered_at, s.order_id`,
    [q.asOf, q.currency, q.surveyId],
  );
  return rows.map((r) => ({
    order_id: Number(r.order_id),
    customer_id: Number(r.customer_id),
    ordered_at: r.ordered_at,
    net_minor: Number(r.net_minor),
  }));
}

/** The products (sku, title) of orders, by internal order id. */
export async function productsOfOrders(
  db: Queryable,
  orderIds: readonly number[],
): Promise<Map<number, { sku: string; title: string }[]>> {
  const out = new Map<number, { sku: string; title: string }[]>();
  for (let i = 0; i < orderIds.length; i += 1000) {
    const part = orderIds.slice(i, i + 1000);
    const rows = await db.query<{ order_id: number; sku: string; title: string }>(
      `SELECT DISTINCT l.order_id, l.sku, COALESCE(p.title, l.title, l.sku) AS title
       FROM order_lines l LEFT JOIN products p ON p.sku = l.sku
       WHERE l.sku IS NOT NULL AND l.order_id IN (${part.map((_, k) => `$${k + 1}`).join(', ')})`,
      part,
    );
    for (const r of rows) {
      const id = Number(r.order_id);
      out.set(id, [...(out.get(id) ?? []), { sku: r.sku, title: r.title }]);
    }
  }
  return out;
}

/** The segments (as of their latest snapshot) of the customers who answered the survey. */
export async function answeringCustomersSegments(
  db: Queryable,
  surveyId: number,
): Promise<{ segment: string; customer_id: number }[]> {
  const rows = await db.query<{ segment: string; customer_id: number }>(
    `SELECT DISTINCT m.segment, m.customer_id FROM segment_members m
     WHERE m.customer_id IN (SELECT customer_id FROM survey_answers WHERE survey_id = $1)`,
    [surveyId],
  );
  return rows.map((r) => ({ segment: r.segment, customer_id: Number(r.customer_id) }));
}

export async function invitationCount(db: Queryable, surveyId: number): Promise<number> {
  const [r] = await db.query<{ n: number }>(
    `SELECT CAST(COUNT(*) AS INTEGER) AS n FROM survey_invitations WHERE survey_id = $1`,
    [surveyId],
  );
  return Number(r?.n ?? 0);
}

/** Answers whose task is done and whose customer has not been asked again about it. */
export async function followUpsDue(
  db: Queryable,
): Promise<{ survey_name: string; external_id: string; task_id: number }[]> {
  return db.query(
    `SELECT s.name AS survey_name, c.external_id, t.task_id
     FROM survey_answers a
     JOIN tasks t ON t.task_id = a.task_id
     JOIN surveys s ON s.survey_id = a.survey_id
     JOIN customers c ON c.customer_id = a.customer_id
     WHERE t.status = 'done' AND s.status = 'active' AND c.erased_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM survey_invitations i
                       WHERE i.survey_id = a.survey_id AND i.customer_id = a.customer_id
                         AND i.occurrence = 'follow-up:' || CAST(t.task_id AS TEXT))
     ORDER BY t.task_id`,
  );
}

export async function eraseCustomerSurveys(tx: Queryable, customerId: number): Promise<void> {
  // The score stays as an anonymous count; the free text and the open invitations go.
  await tx.exec(`UPDATE survey_answers SET why = NULL WHERE customer_id = $1`, [customerId]);
  await tx.exec(`UPDATE survey_invitations SET status = 'closed' WHERE customer_id = $1`, [customerId]);
}

export async function mergeCustomerSurveys(tx: Queryable, fromIds: readonly number[], intoId: number) {
  if (fromIds.length === 0) return;
  const list = fromIds.map((_, i) => `$${i + 2}`).join(', ');
  for (const table of ['survey_invitations', 'survey_answers'])
    await tx.exec(`UPDATE ${table} SET customer_id = $1 WHERE customer_id IN (${list})`, [
      intoId,
      ...fromIds,
    ]);
  // The throttle keeps the latest invitation of the merged customers.
  await tx.exec(
    `INSERT INTO survey_throttle (customer_id, last_invited_at)
     SELECT $1, MAX(last_invited_at) FROM survey_throttle WHERE customer_id IN (${list})
     HAVING COUNT(*) > 0
     ON CONFLICT (customer_id) DO UPDATE SET last_invited_at = GREATEST(survey_throttle.last_invited_at, excluded.last_invited_at)`,
    [intoId, ...fromIds],
  );
  await tx.exec(
    `DELETE FROM survey_throttle WHERE customer_id IN (${fromIds.map((_, i) => `$${i + 1}`).join(', ')})`,
    [...fromIds],
  );
}

/**
 * Timeline source (customer 360): the customer's survey invitations and answers (`survey.invited`,
 * `survey.answered` with the score and the reason).
 */
export async function surveyTimeline(db: Queryable, q: TimelineQuery): Promise<TimelineEntry[]> {
  const params: SqlValue[] = [q.customerId];
  const rows = await db.query<{
    kind: string;
    at: Date;
    invitation_id: string;
    survey: string;
    score: number | null;
    why: string | null;
    task_id: number | null;
  }>(
    `SELECT * FROM (SELECT * FROM (
       SELECT 'survey.invited' AS kind, i.invited_at AS at, i.invitation_id, s.name AS survey,
              CAST(NULL AS INTEGER) AS score, CAST(NULL AS TEXT) AS why, CAST(NULL AS BIGINT) AS task_id
       FROM survey_invitations i JOIN surveys s ON s.survey_id = i.survey_id WHERE i.customer_id = $1
       UNION ALL
       SELECT 'survey.answered' AS kind, a.updated_at AS at, a.invitation_id, s.name AS survey, a.score, a.why, a.task_id
       FROM survey_answers a JOIN surveys s ON s.survey_id = a.survey_id WHERE a.customer_id = $1
     ) u WHERE u.kind IN (${q.kinds
       .filter((k) => k === 'survey.invited' || k === 'survey.answered')
       .map((k) => `'${k}'`)
       .join(', ')})
     ) t ${newestFirst(q, params)}`,
    params,
  );
  return rows.map((r) => ({
    at: r.at,
    kind: r.kind,
    ref: r.invitation_id,
    title:
      r.kind === 'survey.invited'
        ? `invited to survey ${r.survey}`
        : `survey ${r.survey}: scored ${r.score}${r.why ? ` — ${r.why}` : ''}`,
    detail: r.why,
    properties: { survey: r.survey, score: r.score, why: r.why, task: r.task_id },
  }));
}
