import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import type { SqlValue } from '../../storage/port.js';
import type { Preset } from './presets/index.js';
import type { Mapped } from './presets/types.js';
import { STAGING } from './repository.js';
import {
  CONSENT_CHANNELS,
  CUSTOMER_FIELDS,
  describeIssues,
  ENTITY_SCHEMAS,
  type Entity,
  type OrderLineRow,
} from './schema.js';
import { MAX_RECORD_CHARS } from './csv.js';
import type { SourceRecord, Unreadable } from './source.js';
import { cleanRecord, type FieldIssue } from './values.js';

/** What becomes of each input record: staging rows, rejections with their line, or rule-based skips. */
export interface RecordSink {
  row(entity: Entity, row: SqlValue[]): void;
  reject(line: number, reason: string): void;
  /** A row imported without a field it had (the field was invalid and is optional). */
  warn(line: number, reason: string): void;
  skip(reason: string, count?: number): void;
}

/**
 * Optional descriptive fields an invalid value of which is left out with a warning instead of
 * rejecting the row (a bad birthday should not lose the customer). Amounts, dates that place an
 * order, keys and quantities are never dropped: a row wrong in those is rejected.
 */
const DROPPABLE: Record<Entity, ReadonlySet<string>> = {
  customers: new Set([
    ...CUSTOMER_FIELDS,
    ...CONSENT_CHANNELS.flatMap((c) => [`${c}_consent_at`, `${c}_consent_source`]),
  ]),
  orders: new Set(['title', 'channel', 'source', 'country', 'email', 'email_consent']),
  products: new Set(['title', 'category']),
  refunds: new Set(['reason']),
  spend: new Set<string>(),
  events: new Set<string>(),
};

/** How a row with bytes that are not UTF-8 is rejected begins (the importer counts them: see service.ts). */
export const NOT_UTF8 = 'bytes that are not UTF-8';

/** Why a record that could not be read is rejected. */
export function unreadableReason(u: Unreadable): string {
  if (u.kind === 'too-long')
    return `the row is longer than ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters (the limit); left out`;
  const hex = u.byte.toString(16).toUpperCase().padStart(2, '0');
  return `${NOT_UTF8} at byte offset ${u.offset} (0x${hex}) — if the file is in another encoding, pass --encoding (e.g. cp1251)`;
}

/** Staging tables an import of `entity` writes (orders files also carry refunds, e.g. C-invoices). */
export function stagingTargets(entity: Entity): readonly Entity[] {
  return entity === 'orders' ? ['orders', 'refunds'] : [entity];
}

/**
 * The per-record pipeline of an import: preset mapping, cleaning, zod validation, staging row. Pure
 * and synchronous, so the importer runs it on its own thread or, for big files, in parse workers.
 * `expectedFields` is the header's width (CSV rows with more cells are rejected). `readValues`
 * rewrites the row's amounts and dates as the file writes them into the generic form (values.ts).
 */
export function recordHandler(
  entity: Entity,
  preset: Preset,
  mapper: (values: Record<string, unknown>, line: number) => Mapped[],
  expectedFields: number,
  sink: RecordSink,
  readValues: (entity: Entity, values: Record<string, unknown>) => readonly FieldIssue[],
): (rec: SourceRecord) => void {
  const targets = stagingTargets(entity);
  return (rec) => {
    const v = rec.values;
    if ('__unreadable' in v) {
      sink.reject(rec.line, unreadableReason(v.__unreadable as Unreadable));
      return;
    }
    if ('__invalidJson' in v) {
      sink.reject(rec.line, `not a JSON object: ${String(v.__invalidJson)}`);
      return;
    }
    if ('__extra' in v) {
      sink.reject(
        rec.line,
        `the row has ${expectedFields + Number(v.__extra)} fields but the header has ${expectedFields}`,
      );
      return;
    }
    let mapped: Mapped[];
    try {
      mapped = mapper(v, rec.line);
    } catch (err) {
      sink.reject(rec.line, (err as Error).message);
      return;
    }
    for (const m of mapped) {
      if (m.kind === 'skip') {
        sink.skip(m.reason);
        continue;
      }
      if (m.kind === 'reject') {
        sink.reject(rec.line, m.reason);
        continue;
      }
      const refused: FieldIssue[] = [];
      const values = cleanRecord(m.values, refused);
      const read = readValues(m.entity, values);
      const issues = refused.length === 0 ? read : [...refused, ...read];
      const notes: string[] = [];
      if (issues.length > 0) {
        // An unreadable optional descriptive field is left out (as below); anything else rejects the row.
        if (issues.some((i) => !DROPPABLE[m.entity].has(i.field))) {
          // Name every problem of the row: the schema's on the other fields too.
          const bad = new Set(issues.map((i) => i.field));
          const rest = ENTITY_SCHEMAS[m.entity].safeParse(values);
          const others = rest.success
            ? []
            : rest.error.issues
                .filter((i) => !bad.has(String(i.path[0] ?? '')))
                .map((i) => describeIssues(new z.ZodError([i])).reason);
          sink.reject(rec.line, [...issues.map((i) => i.reason), ...others].join('; '));
          continue;
        }
        for (const i of issues) {
          delete values[i.field];
          notes.push(i.reason);
        }
      }
      let parsed = ENTITY_SCHEMAS[m.entity].safeParse(values);
      if (!parsed.success) {
        const reason = describeIssues(parsed.error).reason;
        const fields = new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '')));
        const droppable = [...fields].every((f) => DROPPABLE[m.entity].has(f) && f in values);
        if (droppable) {
          const kept = { ...values };
          for (const f of fields) delete kept[f];
          parsed = ENTITY_SCHEMAS[m.entity].safeParse(kept);
        }
        if (!parsed.success) {
          sink.reject(rec.line, reason);
          continue;
        }
        notes.push(reason);
      }
      if (notes.length > 0)
        sink.warn(rec.line, `${notes.join('; ')} — left out; the rest of the row was imported`);
      const lineTotal = m.entity === 'orders' ? (parsed.data as OrderLineRow).lineTotalIssue : null;
      if (lineTotal) sink.warn(rec.line, `field line_total: ${lineTotal} — kept as the file has it`);
      if (!targets.includes(m.entity))
        throw new AppError(
          'internal',
          `preset ${preset.name} produced ${m.entity} rows while importing ${entity}`,
        );
      sink.row(m.entity, STAGING[m.entity].toRow(rec.line, parsed.data as never));
    }
  };
}
