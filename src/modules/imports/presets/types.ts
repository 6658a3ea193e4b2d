import type { Entity } from '../schema.js';

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
