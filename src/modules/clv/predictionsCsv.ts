import { createWriteStream } from 'node:fs';
import type { PredictionTable } from './service.js';

/**
 * Writes `retain clv predict --out`: customer_id,expected_purchases,p_alive,clv and, with `details`,
 * churn_risk,expected_spend,next_order_in,next_order_date (clv and spend empty without a spend model).
 */
export async function writePredictionsCsv(file: string, t: PredictionTable, details: boolean): Promise<void> {
  const stream = createWriteStream(file);
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '');
  const nextIn = details ? t.nextIn : null;
  let chunk = `customer_id,expected_purchases,p_alive,clv${nextIn ? ',churn_risk,expected_spend,next_order_in,next_order_date' : ''}\n`;
  for (let i = 0; i < t.rows; i++) {
    const k = t.groupOf[i]!;
    chunk += `${csvCell(t.ids[i]!)},${t.expected[k]!.toFixed(6)},${t.pAlive[k]!.toFixed(6)},${fixed(t.clvOf(i), 2)}`;
    if (nextIn) {
      const at = t.nextOrderAt(i);
      chunk += `,${(1 - t.pAlive[k]!).toFixed(6)},${fixed(t.spendOf(i), 2)},${fixed(nextIn[k]!, 3)},${at ? at.toISOString().slice(0, 10) : ''}`;
    }
    chunk += '\n';
    if (chunk.length > 1 << 20) {
      if (!stream.write(chunk)) await new Promise<void>((r) => stream.once('drain', () => r()));
      chunk = '';
    }
  }
  stream.end(chunk);
  await done;
}
