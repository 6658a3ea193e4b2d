import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';
import { buildProgram } from '../../cli/main.js';
import { upsertCustomer } from '../customers/service.js';
import { openStore } from '../store.js';
import { createUser } from '../users/service.js';

/** `retain tasks …` end to end on a DuckDB file. */
describe('retain tasks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-tasks-cli-'));
  const db = join(dir, 'shop.duckdb');
  const run = jsonCli(db, { quiet: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const store = await openStore({ db });
    const ctx = testContext(store, systemClock);
    await upsertCustomer(ctx, {
      body: { customer_id: 'ann', email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee' },
    });
    await upsertCustomer(ctx, { body: { customer_id: 'bob', email: 'bob@example.com' } });
    await createUser(ctx, { email: 'mia@shop.com', role: 'agent', password: 'correct horse battery' });
    await store.close();
  });

  it('creates, lists, shows and moves tasks; refuses bad input naming the option', async () => {
    const a = await run(
      'tasks',
      'create',
      '--customer',
      'ann',
      '--title',
      'Call about the late parcel',
      '--due',
      '2020-01-01',
      '--assignee',
      'mia@shop.com',
    );
    expect(a).toMatchObject({
      created: true,
      task: {
        customer: { id: 'ann', name: 'Ann Lee' },
        assignee: 'mia@shop.com',
        dueAt: '2020-01-01T00:00:00.000Z',
        overdue: true,
        status: 'open',
        history: [{ by: 'cli' }],
      },
    });
    const b = await run(
      'tasks',
      'create',
      '--customer',
      'bob',
      '--title',
      'Thank Bob',
      '--key',
      'thanks-bob',
    );
    expect(b.created).toBe(true);
    expect(
      await run('tasks', 'create', '--customer', 'bob', '--title', 'Thank Bob', '--key', 'thanks-bob'),
    ).toMatchObject({ created: false, task: { id: b.task.id } });

    const list = await run('tasks', 'list');
    expect(list.data.map((t: { id: number }) => t.id)).toEqual([a.task.id, b.task.id]);
    expect((await run('tasks', 'list', '--overdue')).data.map((t: { id: number }) => t.id)).toEqual([
      a.task.id,
    ]);
    expect((await run('tasks', 'list', '--assignee', 'none')).data.map((t: { id: number }) => t.id)).toEqual([
      b.task.id,
    ]);
    expect((await run('tasks', 'list', '--customer', 'bob', '--status', 'open')).data).toHaveLength(1);

    expect(await run('tasks', 'update', String(a.task.id), '--status', 'in_progress')).toMatchObject({
      status: 'in_progress',
    });
    await expect(run('tasks', 'update', String(a.task.id), '--status', 'done')).rejects.toThrow(
      /done with an outcome/,
    );
    await expect(run('tasks', 'update', String(a.task.id), '--status', 'open')).rejects.toThrow(
      /not back to open/,
    );
    const done = await run(
      'tasks',
      'update',
      String(a.task.id),
      '--status',
      'done',
      '--outcome',
      'Resent; arrives Friday',
      '--assignee',
      'none',
    );
    expect(done).toMatchObject({ status: 'done', assignee: null, outcome: 'Resent; arrives Friday' });
    const shown = await run('tasks', 'show', String(a.task.id));
    expect(shown.history.map((h: { change: string }) => h.change)).toEqual([
      'created (manual); assigned to mia@shop.com; due 2020-01-01T00:00:00.000Z',
      'status open → in_progress',
      'status in_progress → done; assignee mia@shop.com → —; outcome: Resent; arrives Friday',
    ]);

    await expect(run('tasks', 'create', '--customer', 'zed', '--title', 'x')).rejects.toThrow(
      /no customer 'zed'/,
    );
    await expect(
      run('tasks', 'create', '--customer', 'ann', '--title', 'x', '--assignee', 'ghost@shop.com'),
    ).rejects.toThrow(/no user 'ghost@shop.com'/);
    await expect(run('tasks', 'list', '--status', 'later')).rejects.toThrow(/expected statuses among/);
    await expect(run('tasks', 'show', 'x1')).rejects.toThrow(/expected a task id/);
    expect((await run('tasks', 'list')).data).toHaveLength(2); // nothing written by the refusals
  });

  it('prints a table without --json', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      await buildProgram().parseAsync(['node', 'retain', '--db', db, 'tasks', 'list']);
    } finally {
      spy.mockRestore();
    }
    expect(out.split('\n')[0]).toMatch(/^id\s+due \(UTC\)\s+status\s+assignee\s+customer\s+title/);
    expect(out).toContain('Thank Bob');
  });
});
