import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';
import { openStore } from '../store.js';
import { upsertOrder } from '../orders/service.js';

/** `retain loyalty …` end to end on a DuckDB file. */
describe('retain loyalty', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-loyalty-cli-'));
  const db = join(dir, 'shop.duckdb');
  const run = jsonCli(db, { quiet: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const store = await openStore({ db });
    const ctx = testContext(store, systemClock);
    await upsertOrder(ctx, {
      body: {
        order_id: 'A1',
        customer_id: 'ann',
        ordered_at: '2024-01-01T00:00:00Z',
        currency: 'GBP',
        lines: [{ sku: 'X', quantity: 1, unit_price: '10.00' }],
      },
    });
    await store.close();
  });

  it('sets the programme from a file, enrols, adjusts, redeems with a key, reverses, reports', async () => {
    const file = join(dir, 'program.json');
    writeFileSync(
      file,
      JSON.stringify({ currency: 'GBP', welcomeBonus: { points: 150 }, actions: { review: { points: 40 } } }),
    );
    expect(await run('loyalty', 'program', 'set', '--file', file)).toMatchObject({
      version: 1,
      config: { currency: 'GBP' },
    });
    writeFileSync(file, JSON.stringify({ currency: 'GBP', pendingDays: -2 }));
    await expect(run('loyalty', 'program', 'set', '--file', file)).rejects.toThrow(/pendingDays/);
    expect((await run('loyalty', 'program', 'versions')).length).toBe(1);
    expect(await run('loyalty', 'enrol', 'ann')).toMatchObject({ created: true, member: { available: 150 } });
    expect(await run('loyalty', 'adjust', 'ann', '200', '--reason', 'apology', '--key', 'd1')).toMatchObject({
      applied: true,
      member: { available: 350 },
    });
    expect(await run('loyalty', 'adjust', 'ann', '200', '--reason', 'apology', '--key', 'd1')).toMatchObject({
      applied: false,
      member: { available: 350 },
    });
    expect(await run('loyalty', 'action', 'ann', 'review', 'rv-1')).toMatchObject({
      granted: true,
      points: 40,
    });
    const r = await run('loyalty', 'redeem', 'ann', '300', '--key', 'till-1');
    expect(r).toMatchObject({
      replayed: false,
      redemption: { points: 300, valueMinor: 300, currency: 'GBP', kind: 'code' },
    });
    expect((await run('loyalty', 'redeem', 'ann', '300', '--key', 'till-1')).replayed).toBe(true);
    await expect(run('loyalty', 'redeem', 'ann', '900', '--key', 'till-2')).rejects.toThrow(
      /cannot redeem 900 points: 90 available/,
    );
    await expect(run('loyalty', 'redeem', 'ann', 'many', '--key', 'till-3')).rejects.toThrow(/whole number/);
    expect(await run('loyalty', 'reverse', String(r.redemption.id))).toMatchObject({ reversed: true });
    expect(await run('loyalty', 'member', 'ann')).toMatchObject({ available: 390, pending: 0 });
    const ledger = await run('loyalty', 'ledger', 'ann');
    expect(ledger.data.map((e: { type: string }) => e.type)).toEqual([
      'reverse',
      'redeem',
      'earn',
      'earn',
      'earn',
    ]);
    expect(await run('loyalty', 'sweep')).toMatchObject({ settledMembers: 0 });
    const out = join(dir, 'loyalty.md');
    expect(await run('loyalty', 'report', '--out', out)).toMatchObject({ currency: 'GBP' });
    expect(readFileSync(out, 'utf8')).toMatch(/liabilit/i);
  });
});
