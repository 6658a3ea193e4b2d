import type { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import type { SqlValue } from '../../storage/port.js';
import type { Preset } from './presets/index.js';
import type { Mapped } from './presets/types.js';
import { STAGING } from './repository.js';
import {
  cleanRecord,
  CustomerInput,
  describeIssues,
  type Entity,
  EventInput,
  OrderLineInput,
  ProductInput,
  RefundInput,
  SpendInput,
} from './schema.js';
import type { SourceRecord } from './source.js';

const SCHEMAS: Record<Entity, z.ZodType> = {
  orders: OrderLineInput,
  refunds: RefundInput,
  customers: CustomerInput,
  products: ProductInput,
  spend: SpendInput,
  events: EventInput,
};

/** What becomes of each input record: staging rows, rejections with their line, or rule-based skips. */
export interface RecordSink {
  row(entity: Entity, row: SqlValue[]): void;
  reject(line: number, reason: string): void;
  skip(reason: string, count?: number): void;
}

/** Staging tables an import of `entity` writes (orders files also carry refunds, e.g. C-invoices). */
export function stagingTargets(entity: Entity): readonly Entity[] {
  return entity === 'orders' ? ['orders', 'refunds'] : [entity];
}

/**
 * The per-record pipeline of an import: preset mapping, cleaning, zod validation, staging row. Pure
 * and synchronous, so the importer runs it on its own thread or, for big files, in parse workers.
 * `expectedFields` is the header's width (CSV rows with more cells are rejected).
 */
export function recordHandler(
  entity: Entity,
  preset: Preset,
  mapper: (values: Record<string, unknown>, line: number) => Mapped[],
  expectedFields: number,
  sink: RecordSink,
): (rec: SourceRecord) => void {
  const targets = stagingTargets(entity);
  return (rec) => {
    const v = rec.values;
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
      const parsed = SCHEMAS[m.entity].safeParse(cleanRecord(m.values));
      if (!parsed.success) {
        sink.reject(rec.line, describeIssues(parsed.error).reason);
        continue;
      }
      if (!targets.includes(m.entity))
        throw new AppError(
          'internal',
          `preset ${preset.name} produced ${m.entity} rows while importing ${entity}`,
        );
      sink.row(m.entity, STAGING[m.entity].toRow(rec.line, parsed.data as never));
    }
  };
}
