import type { Entity } from '../schema.js';
import type { ValueFormat } from '../values.js';

/** What a preset makes of one input record. */
export type Mapped =
  | { kind: 'row'; entity: Entity; values: Record<string, unknown> }
  | { kind: 'skip'; reason: string }
  | { kind: 'reject'; field: string; reason: string };

export interface SourceOptions {
  /** Columns to assume when the file has no header row. */
  csvHeader?: string[];
  /** Split on runs of whitespace instead of commas (CDNOW). */
  whitespace?: boolean;
}

export interface Preset {
  name: string;
  description: string;
  /** Entities this preset can import. */
  entities: readonly Entity[];
  /** Columns the file must have for this preset, per entity (shown when nothing matches). */
  expectedColumns(entity: Entity): string[];
  /** The required columns a header lacks, when they are not simply `expectedColumns` (alternatives). */
  missingColumns?(entity: Entity, columns: string[]): string[];
  /** Whether a file whose first line is `firstLine` (parsed into `columns`) is in this preset's format. */
  detect(entity: Entity, columns: string[], firstLine: string): boolean;
  source?(firstLine: string): SourceOptions;
  /**
   * The columns this preset reads and the field of the import each feeds (`Created at` → `ordered_at`),
   * for the upload page's column preview; other columns of the file are not read.
   */
  columnFields?(entity: Entity): Record<string, string>;
  /**
   * Why a header this preset recognises cannot be imported (e.g. a download without customer ids), so
   * the error says so instead of listing expected columns; undefined for any other header.
   */
  refuse?(entity: Entity, columns: string[]): string | undefined;
  /**
   * Each row maps on its own (no state carried between rows), so big files may be parsed in pieces
   * by several workers. Shopify (order fields on the first row only) and WooCommerce are not.
   */
  independentRows?: boolean;
  /** Builds the per-file mapper (it may keep state, e.g. Shopify's carried-forward order fields). */
  createMapper(
    entity: Entity,
    opts: PresetOptions,
  ): (values: Record<string, unknown>, line: number) => Mapped[];
}

export interface PresetOptions {
  /** `--map source=field` renames (applied before the preset's own mapping). */
  map: Record<string, string>;
  /** Currency to assume when the file has none. */
  currency: string;
  /** How the file writes amounts and dates (`--decimal`, `--date-format`, `--time-zone`). */
  format: ValueFormat;
}

/** Applies `--map` renames to a record. */
export function renamed(
  values: Record<string, unknown>,
  map: Record<string, string>,
): Record<string, unknown> {
  if (Object.keys(map).length === 0) return values;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) out[map[k] ?? k] = v;
  return out;
}

export const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v).trim());

/**
 * The month-first dates of WooCommerce and the UCI Online Retail workbook (`9/6/2016 6:29:00`,
 * `12/1/2010 8:26`) as ISO wall time; other values unchanged. Only without `--date-format`: an explicit
 * format is the user's word on how the file writes dates.
 */
export function monthFirstDate(v: unknown, format: ValueFormat): unknown {
  if (format.dateFormat !== null) return v;
  const s = str(v);
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(s);
  if (!m) return v;
  const pad = (x: string | undefined) => (x ?? '0').padStart(2, '0');
  return `${m[3]}-${pad(m[1])}-${pad(m[2])} ${pad(m[4])}:${pad(m[5])}:${pad(m[6])}`;
}
