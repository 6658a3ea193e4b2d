import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../cli/main.js';
import { parseMaxRejected } from './commands.js';

describe('retain import --max-rejected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-import-cmd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // 10 rows: 2 valid orders, 8 rows with a bad quantity (one also has a bad currency).
  const csv = [
    'order_id,customer_id,ordered_at,currency,sku,quantity,unit_price',
    'G1,c1,2024-03-01,EUR,MUG,1,4.50',
    'G2,c2,2024-03-02,EUR,MUG,2,4.50',
    ...Array.from({ length: 7 }, (_, i) => `B${i},c3,2024-03-03,EUR,MUG,six,4.50`),
    'B9,c3,2024-03-03,EURO,MUG,six,4.50',
  ].join('\n');
  const file = join(dir, 'mixed.csv');
  writeFileSync(file, csv + '\n');

  async function run(db: string, ...args: string[]) {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      await buildProgram().parseAsync([
        'node',
        'retain',
        '--db',
        join(dir, db),
        '--json',
        'import',
        'orders',
        file,
        ...args,
      ]);
      return { out: JSON.parse(out) as Record<string, unknown>, error: undefined };
    } catch (error) {
      return { out: JSON.parse(out) as Record<string, unknown>, error: error as Error & { code?: string } };
    } finally {
      spy.mockRestore();
    }
  }

  it('fails with the count beyond the limit (default 0), after importing the valid rows and printing the report', async () => {
    const r = await run('a.duckdb');
    expect(r.out).toMatchObject({ rows: 10, inserted: 2, rejected: 8 });
    expect(r.error?.message).toMatch(
      /^8 of 10 rows rejected, more than --max-rejected 0; the valid rows were imported/,
    );
    expect(r.error?.code).toBe('conflict'); // exit code 1
    // Every problem of a row is named, none hidden behind "(and 1 more)".
    const errors = r.out.errors as { line: number; reason: string }[];
    expect(errors.at(-1)).toEqual({
      line: 11, // the header is line 1
      reason: expect.stringMatching(/field currency: .*; field quantity: expected a whole number/),
    });
  });

  it('passes within a count or a share of the rows', async () => {
    expect((await run('b.duckdb', '--max-rejected', '8')).error).toBeUndefined();
    expect((await run('c.duckdb', '--max-rejected', '80%')).error).toBeUndefined();
    expect((await run('d.duckdb', '--max-rejected', '79.9%')).error?.message).toMatch(
      /more than --max-rejected 79.9% \(7\)/,
    );
  });

  it('refuses a limit that is not a count or a percentage', () => {
    expect(parseMaxRejected('0.5%')).toEqual({ value: 0.5, percent: true });
    expect(() => parseMaxRejected('2.5')).toThrow(/field --max-rejected|expected a whole number of rows/);
    expect(() => parseMaxRejected('120%')).toThrow(/percentage/);
    expect(() => parseMaxRejected('lots')).toThrow(/got 'lots'/);
  });
});
