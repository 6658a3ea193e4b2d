/** Test fixtures: the CDNOW files shipped in ../shared/data/cdnow (resolved from this file). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CDNOW_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/data/cdnow');
export const haveCdnow = existsSync(resolve(CDNOW_DIR, 'cdnow_customers_summary.csv'));

/** Reads a small numeric CSV with a header into columns (test-only; the CLI has its own fast reader). */
export function readNumericCsv(file: string): Record<string, Float64Array> {
  const lines = readFileSync(resolve(CDNOW_DIR, file), 'utf8').trim().split(/\r?\n/);
  const header = lines[0]!.split(',');
  const cols = header.map(() => new Float64Array(lines.length - 1));
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i]!.split(',');
    for (let j = 0; j < header.length; j++) cols[j]![i - 1] = Number(cells[j]);
  }
  return Object.fromEntries(header.map((h, j) => [h, cols[j]!]));
}
