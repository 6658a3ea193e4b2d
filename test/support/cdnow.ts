/** Test fixtures: the CDNOW files shipped in data/cdnow (resolved from this file). */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CDNOW_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../data/cdnow');

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

/** CDNOW_sample.txt as orders: columns master id, sample id, date YYYYMMDD, CDs, dollars. */
export function readCdnowSampleOrders(): { customerId: string; orderedAt: Date; amountMinor: number }[] {
  const text = readFileSync(resolve(CDNOW_DIR, 'CDNOW_sample.txt'), 'utf8');
  const out: { customerId: string; orderedAt: Date; amountMinor: number }[] = [];
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const d = f[2]!;
    out.push({
      customerId: String(Number(f[1])),
      orderedAt: new Date(Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)))),
      amountMinor: Math.round(Number(f[4]) * 100),
    });
  }
  return out;
}
