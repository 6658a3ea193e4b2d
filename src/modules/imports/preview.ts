import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { ModuleContext } from '../../kit/context.js';
import { AppError, invalid } from '../../shared/errors.js';
import type { SqlValue } from '../../storage/port.js';
import { genericFields, resolveColumns } from './columns.js';
import { showDelimiter } from './csv.js';
import { PRESETS } from './presets/index.js';
import { recordHandler, type RecordSink } from './records.js';
import { STAGING } from './repository.js';
import { GENERIC_REQUIRED, type Entity } from './schema.js';
import {
  planImport,
  readHeader,
  reportDates,
  reportDecimal,
  type ImportFormat,
  type ImportOptions,
  type ImportPlan,
} from './service.js';
import { openSource } from './source.js';
import { emptyTally, parseDateFormat, parseDecimalOption, valueReader } from './values.js';

/** The most text of a file's head the preview reads (after decompression). */
export const PREVIEW_TEXT_BYTES = 256 << 10;
/** Parsed rows shown. */
const SAMPLE_ROWS = 5;
/** Values of each column shown beside it. */
const COLUMN_SAMPLES = 3;

export interface PreviewInput extends Omit<ImportOptions, 'file' | 'onProgress'> {
  /** The first bytes of the file as uploaded (gzip or not). */
  head: Buffer;
  /** Whether `head` is the whole file. */
  complete: boolean;
  /** The file's name (`.ndjson`/`.jsonl` is read as NDJSON, as on upload). */
  filename?: string;
}

/** What becomes of one column of the file. */
export interface PreviewColumn {
  column: string;
  /** The import field it feeds, or null when it is not read. */
  field: string | null;
  /**
   * What `map` renames it to (the generic preset: a field; another preset: one of its columns), when a
   * rename applies; the override the page offers sets this.
   */
  mappedTo: string | null;
  /** exact (its name is the field's), renamed (case/spacing), map (the `map` option), preset, ignored. */
  how: 'exact' | 'renamed' | 'map' | 'preset' | 'ignored';
  /** Why an ignored column is not read. */
  why: string | null;
  didYouMean: string | null;
  /** Its first values in the file. */
  samples: string[];
}

export interface PreviewRow {
  line: number;
  outcome: 'imported' | 'rejected' | 'skipped';
  /** rejected / skipped: why. */
  reason: string | null;
  /** Imported: the rows the import would stage, values as parsed (amounts in minor units). */
  rows: { entity: Entity; values: Record<string, string | number | boolean | null> }[];
  warnings: string[];
}

export interface ImportPreview {
  entity: Entity;
  /** The preset the upload would use (given or detected), or null when none reads this header. */
  preset: string | null;
  presetDetected: boolean;
  /** The presets that import this entity (the page's choice). */
  presets: string[];
  /** Why the upload would be refused (the import's own message), or null. */
  error: string | null;
  format: ImportFormat;
  gzip: boolean;
  complete: boolean;
  columns: PreviewColumn[];
  /** What a column may be mapped to (`map` targets): generic fields, or the preset's columns. */
  targets: string[];
  /** Required columns (fields) the header lacks. */
  missing: string[];
  /** Data rows in the head read, and what the import would make of them. */
  rowsRead: number;
  counts: { imported: number; rejected: number; skipped: number };
  sample: PreviewRow[];
}

/** The head's text bytes: gunzipped as far as they go, cut after the last whole line unless complete. */
function textBytes(head: Buffer, complete: boolean): { bytes: Buffer; gzip: boolean; complete: boolean } {
  const gzip = head[0] === 0x1f && head[1] === 0x8b;
  let bytes = head;
  if (gzip) {
    try {
      // A cut gzip stream decompresses up to where it stops (sync flush: no end-of-stream check).
      bytes = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (err) {
      throw invalid(`cannot read the gzip file: ${(err as Error).message}`, { field: 'body' });
    }
  }
  let whole = complete;
  if (bytes.length > PREVIEW_TEXT_BYTES) {
    bytes = bytes.subarray(0, PREVIEW_TEXT_BYTES);
    whole = false;
  }
  if (!whole) {
    let end = bytes.lastIndexOf(0x0a);
    // UTF-16LE: the line feed's second byte is 0x00.
    if (end >= 0 && bytes[0] === 0xff && bytes[1] === 0xfe) end++;
    if (end > 0) bytes = bytes.subarray(0, end + 1);
  }
  return { bytes, gzip, complete: whole };
}

const shown = (v: SqlValue): string | number | boolean | null =>
  v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v;

/**
 * What an upload of this file would do, from its first bytes: the same reading as the import (encoding,
 * delimiter, preset, `map`, decimal and date formats) on the head, each column's field, the required
 * columns missing, and the first rows as the import would stage them. Nothing is written to the store.
 */
export async function previewImport(
  ctx: ModuleContext,
  uploadDir: string,
  input: PreviewInput,
): Promise<ImportPreview> {
  const entity = input.entity;
  const decimal = input.decimal === undefined ? 'auto' : parseDecimalOption(input.decimal, 'decimal');
  const dateFormat = input.dateFormat === undefined ? null : parseDateFormat(input.dateFormat, 'date_format');
  const text = textBytes(input.head, input.complete);
  const name = (input.filename ?? 'upload.csv').toLowerCase().replace(/\.gz$/, '');
  const ext = /\.(ndjson|jsonl|csv|tsv|txt)$/.exec(name)?.[0] ?? '';
  await mkdir(uploadDir, { recursive: true });
  const file = join(uploadDir, `preview-${randomUUID()}${ext}`);
  await writeFile(file, text.bytes);
  try {
    const header = await readHeader({
      file,
      ...(input.encoding !== undefined ? { encoding: input.encoding } : {}),
      ...(input.delimiter !== undefined ? { delimiter: input.delimiter } : {}),
    });
    const presets = PRESETS.filter((p) => p.entities.includes(entity)).map((p) => p.name);
    let plan: ImportPlan | null = null;
    let error: string | null = null;
    try {
      plan = await planImport(ctx, entity, header, { ...input, file }, { decimal, dateFormat });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      error = err.message.split(file).join(input.filename ?? 'the file');
    }
    const tally = emptyTally();
    const source = await openSource(file, {
      ...(plan?.preset.source?.(header.head.firstLine) ?? {}),
      encoding: header.head.encoding,
      delimiter: header.delimiter.value,
    });
    const columnNames = source.info.columns;
    const samples = new Map<string, string[]>(columnNames.map((c) => [c, []]));
    const sample: PreviewRow[] = [];
    const counts = { imported: 0, rejected: 0, skipped: 0 };
    let rowsRead = 0;
    try {
      let current: PreviewRow | null = null;
      const sink: RecordSink = {
        row: (e, row) => {
          const cols = STAGING[e].columns as readonly string[];
          current?.rows.push({
            entity: e,
            values: Object.fromEntries(cols.map((c, i) => [c, shown(row[i] ?? null)])),
          });
        },
        reject: (_line, reason) => {
          if (current) [current.outcome, current.reason] = ['rejected', reason];
        },
        warn: (_line, reason) => current?.warnings.push(reason),
        skip: (reason) => {
          if (current && current.rows.length === 0) [current.outcome, current.reason] = ['skipped', reason];
        },
      };
      const handle = plan
        ? recordHandler(
            entity,
            plan.preset,
            plan.preset.createMapper(entity, {
              map: plan.map,
              currency: plan.currency,
              format: plan.valueFormat,
            }),
            columnNames.length,
            sink,
            valueReader(plan.valueFormat, tally),
          )
        : null;
      for await (const batch of source.batches)
        for (const rec of batch) {
          rowsRead++;
          for (const c of columnNames) {
            const list = samples.get(c)!;
            const v = rec.values[c];
            if (list.length < COLUMN_SAMPLES && v !== undefined && v !== null && String(v).trim() !== '')
              list.push(String(v));
          }
          if (!handle) continue;
          current = { line: rec.line, outcome: 'imported', reason: null, rows: [], warnings: [] };
          handle(rec);
          if (current.outcome === 'imported' && current.rows.length === 0) current.outcome = 'skipped';
          counts[current.outcome]++;
          if (sample.length < SAMPLE_ROWS) sample.push(current);
        }
    } finally {
      await source.close();
    }
    const { columns, targets, missing } = describeColumns(entity, columnNames, plan, input.map ?? {});
    for (const c of columns) c.samples = samples.get(c.column) ?? [];
    const timeZone = plan?.timeZone ?? input.timeZone ?? 'UTC';
    return {
      entity,
      preset: plan?.preset.name ?? null,
      presetDetected: plan !== null && input.preset === undefined,
      presets,
      error,
      format: {
        type: source.info.format,
        encoding: header.head.encoding,
        delimiter:
          source.info.format === 'ndjson'
            ? null
            : { ...header.delimiter, value: showDelimiter(header.delimiter.value) },
        decimal: reportDecimal(decimal, tally),
        dateFormat: dateFormat ? { value: dateFormat.text, detected: false } : reportDates(tally),
        timeZone: {
          value: timeZone,
          detected: false,
          from: input.timeZone !== undefined ? 'option' : plan?.storeZone !== undefined ? 'store' : 'default',
        },
      },
      gzip: text.gzip,
      complete: text.complete,
      columns,
      targets,
      missing,
      rowsRead,
      counts,
      sample,
    };
  } finally {
    await rm(file, { force: true });
  }
}

/** Each column's field under the plan (the generic reading when no preset reads the header). */
function describeColumns(
  entity: Entity,
  columns: readonly string[],
  plan: ImportPlan | null,
  map: Record<string, string>,
): { columns: PreviewColumn[]; targets: string[]; missing: string[] } {
  const base = (column: string) => ({
    column,
    mappedTo: map[column] ?? null,
    why: null,
    didYouMean: null,
    samples: [] as string[],
  });
  if (plan && !plan.isGeneric) {
    const fields = plan.preset.columnFields?.(entity) ?? {};
    const expected = plan.preset.expectedColumns(entity);
    const read = new Set([...Object.keys(fields), ...expected]);
    const mapped = columns.map((c) => map[c] ?? c);
    const out = columns.map((column, i): PreviewColumn => {
      const as = mapped[i]!;
      return read.has(as)
        ? { ...base(column), field: fields[as] ?? as, how: map[column] ? 'map' : 'preset' }
        : { ...base(column), field: null, how: 'ignored', why: `not read by preset ${plan.preset.name}` };
    });
    const missing =
      plan.preset.missingColumns?.(entity, mapped) ?? expected.filter((c) => !mapped.includes(c));
    return { columns: out, targets: [...read], missing };
  }
  // Retain's own format (or no preset: what the generic reading would make of it).
  const fields = genericFields(entity);
  const known = new Set(fields);
  const generic = plan?.generic ?? resolveColumns(entity, columns, map);
  const renamed = generic.report.renamed ?? {};
  const ignored = new Map((generic.report.ignored ?? []).map((i) => [i.column, i.didYouMean ?? null]));
  const resolved = columns.map((c) => generic.map[c] ?? map[c] ?? c);
  const out = columns.map((column, i): PreviewColumn => {
    const field = resolved[i]!;
    if (ignored.has(column) || !known.has(field))
      return {
        ...base(column),
        field: null,
        how: 'ignored',
        why: 'not a field of Retain’s format',
        didYouMean: ignored.get(column) ?? null,
      };
    return {
      ...base(column),
      field,
      how: map[column] ? 'map' : renamed[column] ? 'renamed' : 'exact',
    };
  });
  const missing = GENERIC_REQUIRED[entity].filter((f) => !resolved.includes(f));
  return { columns: out, targets: fields, missing };
}
