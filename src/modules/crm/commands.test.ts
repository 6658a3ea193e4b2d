import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';
import { testContext } from '../../../test/support/context.js';
import { buildProgram } from '../../cli/main.js';
import { systemClock } from '../../kit/clock.js';
import { upsertCustomer } from '../customers/service.js';
import { openStore } from '../store.js';

/** `retain customers timeline`, `retain notes …`, `retain tags …` end to end on a DuckDB file. */
describe('retain customers timeline, notes, tags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-crm-cli-'));
  const db = join(dir, 'shop.duckdb');
  const run = jsonCli(db, { quiet: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const store = await openStore({ db });
    await upsertCustomer(testContext(store, systemClock), {
      body: { customer_id: 'ann', email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee' },
    });
    await store.close();
  });

  /** The human output of a command (stdout), or its error. */
  async function human(...args: string[]): Promise<string> {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      await buildProgram().parseAsync(['node', 'retain', '--db', db, ...args]);
    } finally {
      spy.mockRestore();
    }
    return out;
  }

  it('writes and lists notes, adds and removes tags, and shows them on the timeline', async () => {
    const note = await run('notes', 'add', 'ann', 'Called about the parcel');
    expect(note).toMatchObject({ customer: 'ann', body: 'Called about the parcel', author: { id: 'cli' } });
    expect(await run('notes', 'list', 'ann')).toMatchObject({ data: [{ id: note.id }], nextCursor: null });
    expect(await run('tags', 'add', 'ann', 'vip')).toEqual({ id: 'ann', tags: ['vip'], changed: true });
    expect(await run('tags', 'add', 'ann', 'vip')).toMatchObject({ changed: false });
    expect(await run('tags', 'remove', 'ann', 'vip')).toEqual({ id: 'ann', tags: [], changed: true });

    const timeline = await run('customers', 'timeline', 'ann', '--kinds', 'note,tag', '--limit', '2');
    expect(timeline.customer).toMatchObject({ id: 'ann', name: 'Ann Lee', tags: [] });
    // Stamped by the system clock, maybe within one millisecond: the three in some order, in two pages.
    expect(timeline.data).toHaveLength(2);
    const rest = await run(
      'customers',
      'timeline',
      'ann',
      '--kinds',
      'note,tag',
      '--cursor',
      timeline.nextCursor,
    );
    expect([...timeline.data, ...rest.data].map((e: { kind: string }) => e.kind).sort()).toEqual([
      'note',
      'tag.added',
      'tag.removed',
    ]);

    const text = await human('customers', 'timeline', 'ann');
    expect(text).toContain('ann  Ann Lee  <ann@example.com>');
    expect(text).toContain('note by cli: Called about the parcel');
    expect(text).toContain('untagged "vip"');
    expect(await human('notes', 'list', 'ann')).toMatch(/Called about the parcel/);
  });

  it('refuses bad input naming it, and an unknown customer', async () => {
    await expect(run('notes', 'add', 'ann', '   ')).rejects.toThrow(/body/);
    await expect(run('customers', 'timeline', 'ann', '--kinds', 'emails')).rejects.toThrow(
      /unknown kind 'emails'/,
    );
    await expect(run('customers', 'timeline', 'ghost')).rejects.toThrow(/no customer 'ghost'/);
    await expect(run('tags', 'add', 'ghost', 'vip')).rejects.toThrow(/no customer 'ghost'/);
    expect((await run('notes', 'list', 'ann')).data).toHaveLength(1);
  });
});
