import type { ModuleContext } from '../../kit/context.js';
import { basename } from 'node:path';
import { AppError, invalid } from '../../shared/errors.js';
import type { BulkLoad, Dialect, Queryable, SqlValue } from '../../storage/port.js';
import { describeIgnored, resolveColumns, type ColumnReport } from './columns.js';
import { CsvParser, detectDelimiter, parseDelimiter, showDelimiter, type CsvRecord } from './csv.js';
import type { EncodingChoice } from './encoding.js';
import { detectPreset, PRESETS, presetByName, type Preset } from './presets/index.js';
import { genericPreset } from './presets/generic.js';
import { importInWorkers, parallelPlan } from './parallel.js';
import { NOT_UTF8, recordHandler, stagingTargets, type RecordSink } from './records.js';
import * as repo from './repository.js';
import { Entity } from './schema.js';
import { REPEATED_ROW } from './names.js';
import { formatMinor, minorDigits } from '../../shared/money.js';
import { openSource, peekHead, type FileHead } from './source.js';
import { isTimeZone } from '../../shared/time.js';
import {
  emptyTally,
  parseDateFormat,
  parseDecimalOption,
  valueReader,
  type FormatTally,
  type ValueFormat,
} from './values.js';

export interface ImportOptions {
  entity: Entity;
  file: string;
  /** Preset name; detected from the header when absent. */
  preset?: string;
  /** `--map source=field` renames. */
  map?: Record<string, string>;
  /** Currency assumed when a generic file has none (default: the store's, else USD). */
  currency?: string;
  /** At most this many errors are listed (the rest are counted). */
  maxErrors?: number;
  onProgress?: (p: ImportProgress) => void;
  /**
   * Parse workers for big CSV files of presets whose rows are independent: 0 parses on this thread;
   * default: the `RETAIN_IMPORT_WORKERS` environment variable, else one per core for files ≥ 16 MB.
   */
  workers?: number;
  /** The compiled worker script (default: the package's dist/bundle/import-worker.cjs). */
  workerFile?: string;
  /** Bytes per worker task (default 4 MiB; tests use tiny chunks). */
  chunkBytes?: number;
  /**
   * Keep order line rows that repeat an earlier row of the same order exactly (default: they are left
   * out, counted under `duplicates` and listed under `warnings`).
   */
  keepRepeatedRows?: boolean;
  /** Text encoding (`--encoding`): utf-8, utf-16le, cp1251, …; default: detected (encoding.ts). */
  encoding?: string;
  /** CSV delimiter (`,` `;` tab `|`, or comma/semicolon/tab/pipe); default: detected from the header. */
  delimiter?: string;
  /** Decimal separator of amounts: point, comma or auto (default). */
  decimal?: string;
  /** Date format such as `DD.MM.YYYY` (default auto: ISO 8601 and `DD.MM.YYYY`). */
  dateFormat?: string;
  /** IANA time zone of wall times without an offset (default: the store's `time_zone`, else UTC). */
  timeZone?: string;
}

/** How the file was read (`--encoding`, `--delimiter`, `--decimal`, `--date-format`, `--time-zone`). */
export interface ImportFormat {
  type: 'csv' | 'ndjson';
  encoding: EncodingChoice;
  /** null for NDJSON. */
  delimiter: { value: string; detected: boolean } | null;
  /** Auto: what the amounts had (`point`, `comma`, `point and comma`). */
  decimal: { value: string; detected: boolean };
  /** Auto: the forms the dates had (`YYYY-MM-DD`, `DD.MM.YYYY`, or both). */
  dateFormat: { value: string; detected: boolean };
  timeZone: { value: string; detected: false; from: 'option' | 'store' | 'default' };
}

export interface ImportProgress {
  rows: number;
  bytesRead: number;
  bytesTotal: number;
  /** `merging` once every row is read and the merge into the store runs (one transaction). */
  phase?: 'reading' | 'merging';
}

export interface ImportReport {
  entity: Entity;
  file: string;
  preset: string;
  /** The file type and the conventions it was read with. */
  format: ImportFormat;
  /** Data rows read (excluding the header). */
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  errors: repo.RowError[];
  /** Errors beyond `maxErrors`, counted but not listed. */
  errorsOmitted: number;
  /** Rows imported without an invalid optional field (line and reason; capped like `errors`). */
  warnings: repo.RowError[];
  /** Rows left out by the preset's rules (not errors), by reason. */
  skipped: Record<string, number>;
  /**
   * Rows superseded by a later row with the same key in the same file, and (orders) line rows that
   * repeat an earlier row of their order exactly, which are left out (`repeatedRows`).
   */
  duplicates: number;
  repeatedRows?: number;
  /**
   * Orders whose `order_total` is below their lines' subtotal − discount + shipping: kept as the store
   * charged them, each listed under `warnings` (capped like them).
   */
  totalsBelowParts?: number;
  /** Retain's own format: columns read under their field's name, and columns ignored (generic preset). */
  columns?: ColumnReport;
  guestOrders?: number;
  customersCreated?: number;
  productsCreated?: number;
  /** Customers whose email consent an order's `email_consent` changed (the latest order's choice). */
  consentsChanged?: number;
  refunds?: { inserted: number; updated: number; unchanged: number };
  /**
   * Events: identity stitching — anonymous ids linked to a customer, stored events that joined
   * their customer, and events naming a customer for an id already linked to another (each under
   * `warnings`, capped like them; not applied: the first link wins).
   */
  identity?: { linked: number; stitched: number; conflicts: number };
  seconds: number;
}

// Small batches: rows die young (a 50k-row buffer survived scavenges and tripled GC time).
const FLUSH_ROWS = 4_096;

/**
 * The preset a header is in: a preset's exact columns first; else Retain's own format with its fields
 * matched regardless of case and spacing; else the no-preset error, with the near misses.
 */
function detectWithGeneric(
  entity: Entity,
  columns: string[],
  genericColumns: string[],
  firstLine: string,
  file: string,
  report: ColumnReport,
): Preset {
  try {
    return detectPreset(entity, columns, firstLine, file);
  } catch (err) {
    if (genericPreset.detect(entity, genericColumns, firstLine)) return genericPreset;
    const hint = describeIgnored(report);
    if (err instanceof AppError && hint)
      throw new AppError(err.code, `${err.message}; ${hint}`, {
        ...(err.where ? { where: err.where } : {}),
        details: err.details,
      });
    throw err;
  }
}

function headerColumns(firstLine: string, delimiter = ','): string[] {
  const out: CsvRecord[] = [];
  const p = new CsvParser(delimiter);
  p.push(firstLine + '\n', out);
  return (out[0]?.fields ?? []).map((c) => c.trim());
}

/** A file's header as the importer reads it: its head, whether it is NDJSON, the delimiter and columns. */
export interface ImportHeader {
  head: FileHead;
  json: boolean;
  delimiter: { value: string; detected: boolean };
  columns: string[];
}

/** Reads the head of `opts.file` and splits its header (the `--delimiter` option or the detected one). */
export async function readHeader(
  opts: Pick<ImportOptions, 'file' | 'encoding' | 'delimiter'>,
): Promise<ImportHeader> {
  const delimiterOption =
    opts.delimiter === undefined ? undefined : parseDelimiter(opts.delimiter, '--delimiter');
  const head = await peekHead(opts.file, opts.encoding);
  const firstLine = head.firstLine;
  const trimmed = firstLine.trimStart();
  const json = trimmed.startsWith('{');
  let delimiter: { value: string; detected: boolean } = { value: delimiterOption ?? ',', detected: false };
  if (!json && delimiterOption === undefined) {
    const found = detectDelimiter(head.text, head.complete);
    if (found.ambiguous.length > 1)
      throw invalid(
        `cannot tell the delimiter: the header splits into columns on ${found.ambiguous
          .map((d) => `'${showDelimiter(d)}'`)
          .join(' and ')}; pass --delimiter`,
        { file: opts.file, line: 1, field: '--delimiter' },
      );
    if (found.delimiter) delimiter = { value: found.delimiter, detected: true };
  }
  const columns = json ? Object.keys(safeJson(firstLine)) : headerColumns(firstLine, delimiter.value);
  return { head, json, delimiter, columns };
}

/**
 * What the importer makes of a header: the preset (given or detected), the renames, the currency and
 * how values are read. Throws what the import would (a header no preset reads, a wrong entity).
 */
export interface ImportPlan {
  preset: Preset;
  isGeneric: boolean;
  /** The renames applied before the preset reads a record. */
  map: Record<string, string>;
  /** Retain's own format: how the header meets its field names. */
  generic: { map: Record<string, string>; report: ColumnReport };
  currency: string;
  assumedCurrency: boolean;
  timeZone: string;
  storeZone: string | undefined;
  valueFormat: ValueFormat;
}

export async function planImport(
  ctx: ModuleContext,
  entity: Entity,
  header: ImportHeader,
  opts: Omit<ImportOptions, 'entity'>,
  valueOptions: { decimal: ValueFormat['decimal']; dateFormat: ValueFormat['dateFormat'] },
): Promise<ImportPlan> {
  const { db } = ctx;
  const { head, json, delimiter, columns } = header;
  const firstLine = head.firstLine;
  const mappedColumns = columns.map((c) => opts.map?.[c] ?? c);
  // Retain's own format also reads its fields under other cases and spacings (columns.ts).
  const generic = resolveColumns(entity, columns, opts.map ?? {});
  const genericColumns = columns.map((c) => generic.map[c] ?? c);
  const withHint = <T>(f: () => T): T => {
    try {
      return f();
    } catch (err) {
      const hint = json ? '' : delimiterHint(entity, firstLine, delimiter.value, opts.map ?? {});
      if (err instanceof AppError && hint)
        throw new AppError(err.code, `${err.message}; ${hint}`, {
          ...(err.where ? { where: err.where } : {}),
          details: err.details,
        });
      throw err;
    }
  };
  const preset: Preset = opts.preset
    ? presetByName(opts.preset)
    : withHint(() =>
        detectWithGeneric(entity, mappedColumns, genericColumns, firstLine, opts.file, generic.report),
      );
  const isGeneric = preset.name === genericPreset.name;
  const map = isGeneric ? generic.map : (opts.map ?? {});
  if (!preset.entities.includes(entity)) {
    throw invalid(`preset ${preset.name} imports ${preset.entities.join('/')}, not ${entity}`, {
      field: '--preset',
    });
  }
  const presetColumns = isGeneric ? genericColumns : mappedColumns;
  if (opts.preset && preset.name !== 'cdnow' && !preset.detect(entity, presetColumns, firstLine)) {
    const hint = [
      isGeneric ? describeIgnored(generic.report) : '',
      json ? '' : delimiterHint(entity, firstLine, delimiter.value, opts.map ?? {}),
    ]
      .filter(Boolean)
      .join('; ');
    throw invalid(
      `the header does not have the columns preset ${preset.name} needs: ${(
        preset.missingColumns?.(entity, presetColumns) ??
        preset.expectedColumns(entity).filter((c) => !presetColumns.includes(c))
      ).join(', ')} missing (found: ${columns.slice(0, 12).join(', ')})${hint ? `; ${hint}` : ''}`,
      { file: opts.file, line: 1 },
    );
  }
  const storeCurrency = await repo.storeCurrency(db);
  const currency = (opts.currency ?? storeCurrency ?? 'USD').toUpperCase();
  // Amounts with no currency anywhere (no column, no --currency, no store currency) are read as USD:
  // said once, at the header, so a store in another currency notices before its reports do.
  const assumedCurrency =
    isGeneric &&
    opts.currency === undefined &&
    storeCurrency === undefined &&
    ['orders', 'refunds', 'products', 'spend'].includes(entity) &&
    !genericColumns.includes('currency');
  const storeZone = opts.timeZone === undefined ? await repo.storeTimeZone(db) : undefined;
  if (storeZone !== undefined && !isTimeZone(storeZone))
    throw invalid(`the store's time_zone setting '${storeZone}' is not a time zone this system knows`, {
      field: 'time_zone',
    });
  const timeZone = opts.timeZone ?? storeZone ?? 'UTC';
  const valueFormat: ValueFormat = { ...valueOptions, timeZone };
  return {
    preset,
    isGeneric,
    map,
    generic,
    currency,
    assumedCurrency,
    timeZone,
    storeZone,
    valueFormat,
  };
}

/**
 * Reads, validates and merges one file into the store: idempotent, line-numbered errors, constant
 * memory. The importer is the file adapter of the store itself, so it takes a path (streamed in chunks
 * by parse workers for big files); every time stamp comes from `ctx.clock`.
 */
export async function importFile(ctx: ModuleContext, opts: ImportOptions): Promise<ImportReport> {
  const { db } = ctx;
  const started = performance.now();
  const now = ctx.clock.now();
  const entity = Entity.parse(opts.entity);
  const maxErrors = opts.maxErrors ?? 1000;
  // Options are checked before the file is read, so a typo is named whatever the file holds.
  const decimalOption = opts.decimal === undefined ? 'auto' : parseDecimalOption(opts.decimal, '--decimal');
  const dateFormat = opts.dateFormat === undefined ? null : parseDateFormat(opts.dateFormat, '--date-format');
  if (opts.timeZone !== undefined && !isTimeZone(opts.timeZone))
    throw invalid(`unknown time zone '${opts.timeZone}'; expected an IANA name such as Europe/Kyiv or UTC`, {
      field: '--time-zone',
    });
  const header = await readHeader(opts);
  const { head, delimiter } = header;
  const firstLine = head.firstLine;
  const { preset, isGeneric, map, generic, currency, assumedCurrency, timeZone, storeZone, valueFormat } =
    await planImport(ctx, entity, header, opts, { decimal: decimalOption, dateFormat });
  const tally = emptyTally();
  const source = await openSource(opts.file, {
    ...(preset.source?.(firstLine) ?? {}),
    encoding: head.encoding,
    delimiter: delimiter.value,
  });
  const format = (): ImportFormat => ({
    type: source.info.format,
    encoding: head.encoding,
    delimiter:
      source.info.format === 'ndjson' ? null : { ...delimiter, value: showDelimiter(delimiter.value) },
    decimal: reportDecimal(decimalOption, tally),
    dateFormat: dateFormat ? { value: dateFormat.text, detected: false } : reportDates(tally),
    timeZone: {
      value: timeZone,
      detected: false,
      from: opts.timeZone !== undefined ? 'option' : storeZone !== undefined ? 'store' : 'default',
    },
  });

  const report: ImportReport = {
    entity,
    file: basename(opts.file),
    preset: preset.name,
    format: format(),
    rows: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    errors: [],
    errorsOmitted: 0,
    warnings: [],
    skipped: {},
    duplicates: 0,
    ...(isGeneric ? { columns: generic.report } : {}),
    seconds: 0,
  };
  if (assumedCurrency)
    report.warnings.push({
      line: 1,
      reason:
        'no currency column and the store has no currency yet: amounts read as USD — if they are not, set the store ' +
        'currency first (`retain store set --currency EUR`, or `--currency EUR` for this file) and import again',
    });
  let notUtf8 = 0; // rows rejected for bytes that are not UTF-8
  const reject = (line: number, reason: string) => {
    if (reason.startsWith(NOT_UTF8)) notUtf8++;
    report.rejected++;
    if (report.errors.length < maxErrors) report.errors.push({ line, reason });
    else report.errorsOmitted++;
  };

  const targets = stagingTargets(entity);
  const buffers = new Map<Entity, SqlValue[][]>(targets.map((t) => [t, []]));
  let full = false; // some buffer reached FLUSH_ROWS
  const sink: RecordSink = {
    row: (t, row) => {
      const buf = buffers.get(t)!;
      buf.push(row);
      if (buf.length >= FLUSH_ROWS) full = true;
    },
    reject,
    warn: (line, reason) => {
      if (report.warnings.length < maxErrors) report.warnings.push({ line, reason });
    },
    skip: (reason, count = 1) => {
      report.skipped[reason] = (report.skipped[reason] ?? 0) + count;
    },
  };

  // The merge: set-based SQL from the staging tables into the store, one transaction.
  const merge = async (tx: Queryable) => {
    if (entity === 'orders' && !opts.keepRepeatedRows) {
      const repeated = await repo.dropRepeatedOrderLines(tx, maxErrors);
      report.repeatedRows = repeated.count;
      for (const r of repeated.repeats)
        sink.warn(
          r.line,
          `${REPEATED_ROW} ${r.sameAs} of order ${r.order} exactly — left out (--keep-repeated-rows keeps it)`,
        );
    }
    await mergeAll(tx, entity, now, db.dialect, report, reject, sink.warn, maxErrors);
    report.duplicates += report.repeatedRows ?? 0;
    await repo.recordImportRun(tx, db.dialect.jsonType, {
      entity,
      file: report.file,
      preset: preset.name,
      startedAt: now,
      finishedAt: ctx.clock.now(),
      counts: report,
      details: {
        skipped: report.skipped,
        errors: report.errors.slice(0, 100),
        errorsOmitted: report.errorsOmitted,
      },
    });
  };
  // Rows are staged on a session of their own, outside any transaction (reading a big file takes
  // time, and a transaction would hold the store's writer all along); the merge is one transaction.
  await db.session(async (session) => {
    const tables = targets.map((t) => repo.STAGING[t]);
    await repo.createStaging(session, tables as never);
    const loads = new Map<Entity, BulkLoad>();
    for (const t of targets)
      loads.set(t, await session.bulkLoad(repo.STAGING[t].table, repo.STAGING[t].columns));
    const flush = async (t: Entity) => {
      const rows = buffers.get(t);
      const load = loads.get(t);
      if (!rows || rows.length === 0 || !load) return;
      await load.write(rows);
      buffers.set(t, []);
    };
    try {
      const plan = parallelPlan(preset, source.info, opts.workers, opts.workerFile);
      if (plan) {
        await source.close();
        await importInWorkers({
          file: opts.file,
          gzip: source.info.gzip,
          plan,
          chunkBytes: opts.chunkBytes,
          init: {
            entity,
            preset: preset.name,
            map,
            currency,
            header: source.info.columns,
            encoding: head.encoding,
            delimiter: delimiter.value,
            format: valueFormat,
          },
          loads,
          sink,
          tally,
          onRecords: (n, bytesRead) => {
            report.rows += n;
            opts.onProgress?.({ rows: report.rows, bytesRead, bytesTotal: source.info.bytesTotal });
          },
        });
      } else {
        const mapper = preset.createMapper(entity, { map, currency, format: valueFormat });
        const handle = recordHandler(
          entity,
          preset,
          mapper,
          source.info.columns.length,
          sink,
          valueReader(valueFormat, tally),
        );
        for await (const batch of source.batches) {
          for (const rec of batch) {
            report.rows++;
            handle(rec);
            if (full) {
              full = false;
              for (const t of targets) if (buffers.get(t)!.length >= FLUSH_ROWS) await flush(t);
            }
          }
          opts.onProgress?.({
            rows: report.rows,
            bytesRead: source.progress.bytesRead,
            bytesTotal: source.info.bytesTotal,
          });
        }
      }
      for (const t of targets) {
        await flush(t);
        await loads.get(t)?.finish();
      }
      // Most rows not UTF-8: the file is in another encoding; said once, first, beside the rows' errors.
      if (notUtf8 > 0 && notUtf8 * 2 >= report.rows)
        report.warnings.unshift({ line: 1, reason: encodingHint(notUtf8, report.rows, head.encoding) });
    } catch (err) {
      // Abandoned loads stop their background copies and remove their spool files.
      for (const load of loads.values()) await load.abort().catch(() => undefined);
      throw err;
    }
    opts.onProgress?.({
      rows: report.rows,
      bytesRead: source.info.bytesTotal,
      bytesTotal: source.info.bytesTotal,
      phase: 'merging',
    });
    await session.transaction((tx) => merge(tx));
  });
  report.errors.sort((a, b) => a.line - b.line);
  report.warnings.sort((a, b) => a.line - b.line);
  // Fresh planner statistics for what changed, so the first report after a big import is planned
  // from the data as it now is (outside the import's transaction; Postgres only).
  const analyze = db.dialect.refreshStatistics(STATISTICS_TABLES[entity]);
  if (analyze && report.inserted + report.updated > 0) await db.exec(analyze);
  report.format = format();
  report.seconds = Number(((performance.now() - started) / 1000).toFixed(3));
  return report;
}

/** The once-only note when most rows had bytes that are not UTF-8. */
function encodingHint(rows: number, of: number, encoding: EncodingChoice): string {
  const n = `${rows.toLocaleString('en-US')} of ${of.toLocaleString('en-US')} rows had ${NOT_UTF8}`;
  return encoding.by === 'option'
    ? `${n} although --encoding ${encoding.value} was given — check --encoding (e.g. cp1251 or cp1252)`
    : `${n} — the file is probably in another encoding; pass it, e.g. --encoding cp1251 (Cyrillic, Windows) or --encoding cp1252 (Western European, Windows), and import it again`;
}

/** The tables an import of each entity writes (their statistics are refreshed after it). */
const STATISTICS_TABLES: Record<Entity, readonly string[]> = {
  orders: [
    'orders',
    'order_lines',
    'order_discount_codes',
    'customers',
    'refunds',
    'customer_consents',
    'products',
  ],
  refunds: ['refunds', 'customers'],
  customers: ['customers', 'customer_consents'],
  products: ['products'],
  spend: ['marketing_spend'],
  events: ['events', 'customers'],
};

async function mergeAll(
  tx: Queryable,
  entity: Entity,
  now: Date,
  dialect: Dialect,
  report: ImportReport,
  reject: (line: number, reason: string) => void,
  warn: (line: number, reason: string) => void,
  maxWarnings: number,
): Promise<void> {
  const apply = (c: { inserted: number; updated: number; unchanged: number; duplicates?: number }) => {
    report.inserted = c.inserted;
    report.updated = c.updated;
    report.unchanged = c.unchanged;
    report.duplicates = c.duplicates ?? 0;
  };
  switch (entity) {
    case 'orders': {
      const bad = await repo.rejectInconsistentOrders(tx);
      for (const e of bad.errors) reject(e.line, e.reason);
      report.rejected += bad.rows - bad.errors.length;
      const low = await repo.orderTotalWarnings(tx, maxWarnings);
      report.totalsBelowParts = low.count;
      for (const o of low.orders) {
        const f = (m: number) => formatMinor(m, minorDigits(o.currency));
        const parts = o.subtotal - o.discount + o.shipping;
        warn(
          o.line,
          `order ${o.order}: order_total ${f(o.total)} is below its lines' subtotal − discount + shipping ` +
            `(${f(o.subtotal)} − ${f(o.discount)} + ${f(o.shipping)} = ${f(parts)}) by ${f(parts - o.total)} — ` +
            `kept as the store's total`,
        );
      }
      const o = await repo.mergeOrders(tx, now, dialect);
      apply(o);
      const r = await repo.mergeRefunds(tx, now, dialect);
      report.guestOrders = o.guestOrders;
      report.customersCreated = o.customersCreated + r.customersCreated;
      report.productsCreated = o.productsCreated;
      report.consentsChanged = o.consentsChanged;
      report.refunds = { inserted: r.inserted, updated: r.updated, unchanged: r.unchanged };
      break;
    }
    case 'refunds': {
      const r = await repo.mergeRefunds(tx, now, dialect);
      apply(r);
      report.customersCreated = r.customersCreated;
      break;
    }
    case 'customers':
      apply(await repo.mergeCustomers(tx, now, dialect));
      break;
    case 'products':
      apply(await repo.mergeProducts(tx, now));
      break;
    case 'spend':
      apply(await repo.mergeSpend(tx));
      break;
    case 'events': {
      const e = await repo.mergeEvents(tx, now, dialect);
      apply(e);
      report.identity = {
        linked: e.identity.linked,
        stitched: e.identity.stitched,
        conflicts: e.identity.conflicts,
      };
      for (const c of e.identity.refused.slice(0, maxWarnings))
        warn(
          c.line ?? 0,
          `event ${c.eventId}: anonymous id ${c.anonymousId} is already linked to customer ${c.linkedTo}; ` +
            `not linked to ${c.customerId} (the first link wins)`,
        );
      break;
    }
  }
  await repo.dropStaging(
    tx,
    Object.values(repo.STAGING).map((t) => t.table),
  );
}

function safeJson(line: string): Record<string, unknown> {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * When a header matches nothing with the delimiter it was read with, the other delimiter it would
 * match with: `read with delimiter ','; the header has ';' — try --delimiter ';'`.
 */
function delimiterHint(entity: Entity, firstLine: string, used: string, map: Record<string, string>): string {
  for (const d of [',', ';', '\t', '|']) {
    if (d === used) continue;
    const cols = headerColumns(firstLine, d);
    if (cols.length < 2) continue;
    const mapped = cols.map((c) => map[c] ?? c);
    const generic = resolveColumns(entity, cols, map);
    const genericCols = cols.map((c) => generic.map[c] ?? c);
    const fits =
      PRESETS.some((p) => p.entities.includes(entity) && p.detect(entity, mapped, firstLine)) ||
      genericPreset.detect(entity, genericCols, firstLine);
    if (fits)
      return `read with delimiter '${showDelimiter(used)}'; the header has '${showDelimiter(d)}' — try --delimiter '${showDelimiter(d)}'`;
  }
  return '';
}

export function reportDecimal(option: ValueFormat['decimal'], t: FormatTally): ImportFormat['decimal'] {
  if (option !== 'auto') return { value: option, detected: false };
  const value = t.commaDecimals === 0 ? 'point' : t.pointDecimals === 0 ? 'comma' : 'point and comma';
  return { value, detected: true };
}

export function reportDates(t: FormatTally): ImportFormat['dateFormat'] {
  const value =
    t.dottedDates === 0 ? 'YYYY-MM-DD' : t.isoDates === 0 ? 'DD.MM.YYYY' : 'YYYY-MM-DD and DD.MM.YYYY';
  return { value, detected: true };
}
