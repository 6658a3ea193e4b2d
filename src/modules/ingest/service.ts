import type { z } from 'zod';
import { issuesError, issuesOf, type Issue } from '../../kit/http/errors.js';
import type { Database, Queryable } from '../../storage/port.js';
import { cleanRecord, type FieldIssue } from '../imports/values.js';
import * as imports from '../imports/repository.js';
import type { CustomerRow, OrderLineRow, ProductRow, RefundRow, SpendRow } from '../imports/schema.js';

/**
 * Parses one JSON row (an API body, one event, one line of an order) with an import schema, after
 * the import's own {@link cleanRecord} (empty values dropped, exact JSON numbers as their decimal,
 * consent booleans as text; an inexact number, a boolean or object where text belongs, or text that
 * cannot be stored is refused), and a field the schema does not know is refused rather than ignored. Issues name the field path under `prefix` (`lines.0.quantity`); a
 * value that is not an object is left for the schema to refuse.
 */
export function parseJsonRow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: (string | number)[] = [],
): { success: true; data: z.output<S> } | { success: false; issues: Issue[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const p = schema.safeParse(value);
    return p.success
      ? { success: true, data: p.data }
      : { success: false, issues: issuesOf(p.error, prefix) };
  }
  const refused: FieldIssue[] = [];
  const known = fieldsOf(schema);
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (known && !known.has(k))
      refused.push({ field: k, reason: `is not a known field (${[...known].join(', ')})` });
    else row[k] = v;
  }
  const p = schema.safeParse(cleanRecord(row, refused));
  if (p.success && refused.length === 0) return { success: true, data: p.data };
  const issues: Issue[] = refused.map((r) => ({
    path: [...prefix, r.field].join('.'),
    message: r.reason.startsWith(`field ${r.field}: `) ? r.reason.slice(r.field.length + 8) : r.reason,
  }));
  // The schema's issues on the other fields (a refused field was left out: the schema would call it missing).
  const bad = new Set(refused.map((r) => r.field));
  if (!p.success)
    issues.push(...issuesOf(p.error, prefix).filter((_, i) => !bad.has(String(p.error.issues[i]?.path[0]))));
  return { success: false, issues };
}

/** The field names an object schema (or a pipe/transform of one) takes; null for other schemas. */
function fieldsOf(schema: z.ZodType): ReadonlySet<string> | null {
  let s: unknown = schema;
  for (let i = 0; i < 5 && s; i++) {
    const shape = (s as { shape?: Record<string, unknown> }).shape;
    if (shape) return new Set(Object.keys(shape));
    s = (s as { in?: unknown }).in;
  }
  return null;
}

/** {@link parseJsonRow}, throwing a 400 naming every issue (`invalid refund: amount: …`). */
export function parseJsonBody<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const p = parseJsonRow(schema, value);
  if (!p.success) throw issuesError(p.issues, what);
  return p.data;
}

/**
 * A JSON body with the store currency filled in when it names none, as imports do: writers over the API
 * (orders, refunds, products) need not repeat it. Bodies that are not objects, or a store without a
 * currency yet, pass through (the schema then says `currency` is required).
 */
export async function withStoreCurrency(db: Database, body: unknown): Promise<unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const given = (body as Record<string, unknown>).currency;
  if (given !== undefined && given !== null && given !== '') return body;
  const currency = await imports.storeCurrency(db);
  return currency === undefined ? body : { ...body, currency };
}

export interface MergeOutcome {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Orders whose lines disagree on customer or currency (orders only). */
  rejected: { line: number; reason: string }[];
  refunds?: { inserted: number; updated: number; unchanged: number };
}

type Rows =
  | { entity: 'orders'; rows: OrderLineRow[]; refunds?: RefundRow[] }
  | { entity: 'refunds'; rows: RefundRow[] }
  | { entity: 'customers'; rows: CustomerRow[] }
  | { entity: 'products'; rows: ProductRow[] }
  | { entity: 'spend'; rows: SpendRow[] };

/**
 * Writes validated rows through exactly the merge the file importer uses (staging tables, then
 * classify insert/update/unchanged by external id), so an API upsert and an import of the same data
 * agree, and a replay changes nothing. `line` numbers are 1-based positions in `rows`.
 */
export async function mergeRows(
  db: Database,
  input: Rows,
  now: Date,
  opts: { first?: (tx: Queryable) => Promise<void>; inTx?: (tx: Queryable) => Promise<void> } = {},
): Promise<MergeOutcome> {
  return db.transaction(async (tx) => {
    // The caller's claim that must come before the merge (a recurring order's key: a second worker
    // waits on it and gives up, instead of racing to insert the same order).
    if (opts.first) await opts.first(tx);
    const out: MergeOutcome = { inserted: 0, updated: 0, unchanged: 0, rejected: [] };
    const put = async <R>(
      t: { table: string; columns: string[]; toRow(line: number, r: R): unknown[] },
      rows: R[],
    ) => {
      await imports.createStaging(tx, [t as never]);
      await tx.copyRows(t.table, t.columns, rows.map((r, i) => t.toRow(i + 1, r)) as never);
    };
    const set = (c: { inserted: number; updated: number; unchanged: number }) => {
      out.inserted = c.inserted;
      out.updated = c.updated;
      out.unchanged = c.unchanged;
    };
    switch (input.entity) {
      case 'orders': {
        await put(imports.STAGING.orders, input.rows);
        await put(imports.STAGING.refunds, input.refunds ?? []);
        out.rejected = (await imports.rejectInconsistentOrders(tx)).errors;
        set(await imports.mergeOrders(tx, now, db.dialect));
        const r = await imports.mergeRefunds(tx, now, db.dialect);
        out.refunds = { inserted: r.inserted, updated: r.updated, unchanged: r.unchanged };
        break;
      }
      case 'refunds':
        await put(imports.STAGING.refunds, input.rows);
        set(await imports.mergeRefunds(tx, now, db.dialect));
        break;
      case 'customers':
        await put(imports.STAGING.customers, input.rows);
        set(await imports.mergeCustomers(tx, now, db.dialect));
        break;
      case 'products':
        await put(imports.STAGING.products, input.rows);
        set(await imports.mergeProducts(tx, now));
        break;
      case 'spend':
        await put(imports.STAGING.spend, input.rows);
        set(await imports.mergeSpend(tx));
        break;
    }
    await imports.dropStaging(
      tx,
      Object.values(imports.STAGING).map((t) => t.table),
    );
    // The caller's own writes that must commit with the merge (a double opt-in request of a checkout).
    if (opts.inTx) await opts.inTx(tx);
    return out;
  });
}
