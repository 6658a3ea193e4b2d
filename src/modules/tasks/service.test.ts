import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import type { Database } from '../../storage/port.js';
import { eraseCustomer, mergeCustomers, upsertCustomer } from '../customers/service.js';
import { createUser, disableUser } from '../users/service.js';
import { createTask, createTaskIn, getTask, listTasks, updateTask } from './service.js';

/** What an AppError says: its code and the field it names. */
async function failure(
  p: Promise<unknown>,
): Promise<{ code: string; field: string | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return { code: e.code, field: e.where?.field, message: e.message };
  }
  throw new Error('did not fail');
}

describe.each(testEngines())('tasks service on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let ctx: ModuleContext;
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const ids: Record<string, number> = {};

  const counts = async () => {
    const [r] = await db.query<{ tasks: number; events: number }>(
      `SELECT (SELECT COUNT(*) FROM tasks) AS tasks, (SELECT COUNT(*) FROM task_events) AS events`,
    );
    return r!;
  };

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    ctx = testContext(db, clock);
    for (const [id, first, last] of [
      ['ann', 'Ann', 'Lee'],
      ['bob', 'Bob', null],
      ['cat', null, null],
      ['dan', 'Dan', 'Ray'],
    ] as const)
      await upsertCustomer(ctx, {
        body: { customer_id: id, email: `${id}@example.com`, first_name: first, last_name: last },
      });
    for (const r of await db.query<{ customer_id: number; external_id: string }>(
      `SELECT customer_id, external_id FROM customers`,
    ))
      ids[r.external_id] = r.customer_id;
    await createUser(ctx, { email: 'mia@shop.com', role: 'agent', password: 'correct horse battery' });
    await createUser(ctx, { email: 'joe@shop.com', role: 'agent', password: 'correct horse battery' });
    await createUser(ctx, { email: 'old@shop.com', role: 'agent', password: 'correct horse battery' });
    await disableUser(ctx, { email: 'old@shop.com' });
  });
  afterAll(() => dispose());

  it('createTaskIn creates once per key: repeated, concurrent, and inside a transaction that rolls back', async () => {
    const now = clock.now();
    const input = {
      customerId: ids.ann!,
      title: 'Call Ann: win-back',
      body: 'She has not ordered in 90 days',
      source: 'flow:winback',
      sourceKey: 'flow:winback:run-1:call',
      dueAt: new Date('2026-03-03T12:00:00Z'),
      now,
    };
    const first = await db.transaction((tx) => createTaskIn(tx, input));
    expect(first.created).toBe(true);
    const again = await db.transaction((tx) => createTaskIn(tx, { ...input, title: 'something else' }));
    expect(again).toEqual({ taskId: first.taskId, created: false });
    const racing = await Promise.all(
      Array.from({ length: 6 }, () => db.transaction((tx) => createTaskIn(tx, input))),
    );
    expect(racing.every((r) => r.taskId === first.taskId && !r.created)).toBe(true);
    const fresh = await Promise.all(
      Array.from({ length: 6 }, () =>
        db.transaction((tx) => createTaskIn(tx, { ...input, sourceKey: 'flow:winback:run-2:call' })),
      ),
    );
    expect(new Set(fresh.map((r) => r.taskId)).size).toBe(1);
    expect(fresh.filter((r) => r.created)).toHaveLength(1);
    const [n] = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM tasks WHERE source_key LIKE 'flow:winback:%'`,
    );
    expect(n!.n).toBe(2);

    // The flow runner's transaction fails after the step: no task, and the key is free again.
    const before = await counts();
    await expect(
      db.transaction(async (tx) => {
        await createTaskIn(tx, { ...input, sourceKey: 'flow:winback:run-3:call' });
        throw new Error('the send failed');
      }),
    ).rejects.toThrow('the send failed');
    expect(await counts()).toEqual(before);

    const t = await getTask(ctx, { id: first.taskId });
    expect(t).toMatchObject({
      id: first.taskId,
      customer: { id: 'ann', email: 'ann@example.com', name: 'Ann Lee' },
      title: 'Call Ann: win-back',
      body: 'She has not ordered in 90 days',
      assignee: null,
      status: 'open',
      dueAt: '2026-03-03T12:00:00.000Z',
      overdue: false,
      source: 'flow:winback',
      createdAt: '2026-03-02T09:00:00.000Z',
      doneAt: null,
    });
    expect(t.history).toEqual([
      {
        at: '2026-03-02T09:00:00.000Z',
        by: 'flow:winback',
        change: 'created (flow:winback); due 2026-03-03T12:00:00.000Z',
      },
    ]);
  });

  it('createTaskIn refuses bad input naming the field, an unknown or erased customer, a key of another customer', async () => {
    const ok = {
      customerId: ids.bob!,
      title: 'Call Bob',
      source: 'flow:vip',
      sourceKey: 'flow:vip:1',
      now: clock.now(),
    };
    await db.transaction((tx) => createTaskIn(tx, ok));
    const before = await counts();
    const tries: [Record<string, unknown>, string, string][] = [
      [{ title: '  ' }, 'validation', 'title'],
      [{ title: 'x'.repeat(201) }, 'validation', 'title'],
      [{ customerId: 0 }, 'validation', 'customerId'],
      [{ customerId: 1.5 }, 'validation', 'customerId'],
      [{ source: '' }, 'validation', 'source'],
      [{ sourceKey: '' }, 'validation', 'sourceKey'],
      [{ assignee: 'not an email' }, 'validation', 'assignee'],
      [{ dueAt: 'tomorrow' }, 'validation', 'dueAt'],
      [{ customerId: 999_999, sourceKey: 'flow:vip:2' }, 'not_found', 'customerId'],
      [{ customerId: ids.ann!, sourceKey: 'flow:vip:1' }, 'conflict', 'sourceKey'],
    ];
    for (const [change, code, field] of tries) {
      const f = await failure(
        db.transaction((tx) => createTaskIn(tx, { ...ok, ...change } as Parameters<typeof createTaskIn>[1])),
      );
      expect({ code: f.code, field: f.field }, JSON.stringify(change)).toEqual({ code, field });
    }
    expect(await counts()).toEqual(before);
  });

  it('creates tasks by hand: the customer by shop id, the assignee a live user, a key answering the first', async () => {
    const r = await createTask(
      ctx,
      { customer: 'cat', title: 'Ask about the return', assignee: 'MIA@shop.com', dueAt: '2026-03-01' },
      'user:joe@shop.com',
    );
    expect(r.created).toBe(true);
    expect(r.task).toMatchObject({
      customer: { id: 'cat', email: 'cat@example.com', name: null },
      assignee: 'mia@shop.com',
      dueAt: '2026-03-01T00:00:00.000Z',
      overdue: true,
      source: 'manual',
    });
    expect(r.task.history[0]).toMatchObject({
      by: 'user:joe@shop.com',
      change: 'created (manual); assigned to mia@shop.com; due 2026-03-01T00:00:00.000Z',
    });
    const keyed = await createTask(ctx, { customer: 'cat', title: 'Once', idempotencyKey: 'k-1' }, 'cli');
    const replay = await createTask(ctx, { customer: 'cat', title: 'Once' }, 'cli', {
      idempotencyKey: 'k-1',
    });
    expect(replay).toMatchObject({ created: false, task: { id: keyed.task.id } });

    const before = await counts();
    const tries: [unknown, string, string | undefined][] = [
      [{ customer: 'nobody', title: 'x' }, 'not_found', 'customer'],
      [{ customer: 'cat', title: '' }, 'validation', 'title'],
      [{ title: 'x' }, 'validation', 'customer'],
      [{ customer: 'cat', title: 'x', assignee: 'ghost@shop.com' }, 'validation', 'assignee'],
      [{ customer: 'cat', title: 'x', assignee: 'old@shop.com' }, 'validation', 'assignee'],
      [{ customer: 'cat', title: 'x', dueAt: '2026-02-30' }, 'validation', 'dueAt'],
      [{ customer: 'cat', title: 'x', priority: 'high' }, 'validation', 'priority'],
      [{ customer: 'ann', title: 'x', idempotencyKey: 'k-1' }, 'conflict', 'sourceKey'],
      [[], 'validation', undefined],
    ];
    for (const [body, code, field] of tries) {
      const f = await failure(createTask(ctx, body, 'cli'));
      expect({ code: f.code, field: f.field }, JSON.stringify(body)).toEqual({ code, field });
    }
    const differ = await failure(
      createTask(ctx, { customer: 'cat', title: 'x', idempotencyKey: 'a' }, 'cli', { idempotencyKey: 'b' }),
    );
    expect(differ).toMatchObject({ code: 'validation', field: 'idempotencyKey' });
    expect(await counts()).toEqual(before);
  });

  it('moves open → in_progress → done with an outcome; refuses other moves with 409 saying why', async () => {
    const { task } = await createTask(ctx, { customer: 'dan', title: 'Call Dan' }, 'cli');
    const id = String(task.id);
    clock.advance(60_000);
    const started = await updateTask(ctx, {
      id,
      body: { status: 'in_progress', assignee: 'mia@shop.com' },
      by: 'k1',
    });
    expect(started).toMatchObject({ status: 'in_progress', assignee: 'mia@shop.com', doneAt: null });
    expect(started.history.at(-1)).toEqual({
      at: '2026-03-02T09:01:00.000Z',
      by: 'k1',
      change: 'status open → in_progress; assignee — → mia@shop.com',
    });

    const before = await counts();
    const back = await failure(updateTask(ctx, { id, body: { status: 'open' }, by: 'k1' }));
    expect(back).toMatchObject({ code: 'conflict', field: 'status' });
    expect(back.message).toMatch(/in progress: it goes on to done or cancelled, not back to open/);
    expect(await failure(updateTask(ctx, { id, body: { status: 'done' }, by: 'k1' }))).toMatchObject({
      code: 'validation',
      field: 'outcome',
    });
    expect(await failure(updateTask(ctx, { id, body: { outcome: 'talked' }, by: 'k1' }))).toMatchObject({
      code: 'validation',
      field: 'outcome',
    });
    expect(await failure(updateTask(ctx, { id, body: {}, by: 'k1' }))).toMatchObject({
      code: 'validation',
      field: 'status',
    });
    expect(await failure(updateTask(ctx, { id, body: { status: 'finished' }, by: 'k1' }))).toMatchObject({
      code: 'validation',
      field: 'status',
    });
    expect(
      await failure(updateTask(ctx, { id, body: { assignee: 'ghost@shop.com' }, by: 'k1' })),
    ).toMatchObject({ code: 'validation', field: 'assignee' });
    expect(await failure(updateTask(ctx, { id: 'abc', body: { status: 'done' }, by: 'k1' }))).toMatchObject({
      code: 'validation',
      field: 'id',
    });
    expect(
      await failure(updateTask(ctx, { id: '999999', body: { status: 'done' }, by: 'k1' })),
    ).toMatchObject({
      code: 'not_found',
      field: 'id',
    });
    expect(await counts()).toEqual(before);

    clock.advance(60_000);
    const done = await updateTask(ctx, {
      id,
      body: { status: 'done', outcome: 'Reordered on the phone' },
      by: 'k1',
    });
    expect(done).toMatchObject({
      status: 'done',
      outcome: 'Reordered on the phone',
      doneAt: '2026-03-02T09:02:00.000Z',
    });
    expect(done.history.map((h) => h.change)).toEqual([
      'created (manual)',
      'status open → in_progress; assignee — → mia@shop.com',
      'status in_progress → done; outcome: Reordered on the phone',
    ]);
    // The same request again changes nothing (a retry), and answers the task.
    const retry = await updateTask(ctx, {
      id,
      body: { status: 'done', outcome: 'Reordered on the phone' },
      by: 'k1',
    });
    expect(retry).toEqual(done);

    const closed = await counts();
    const reopen = await failure(updateTask(ctx, { id, body: { status: 'cancelled' }, by: 'k1' }));
    expect(reopen).toMatchObject({ code: 'conflict', field: 'status' });
    expect(reopen.message).toMatch(/is done: a closed task does not move again/);
    expect(
      await failure(updateTask(ctx, { id, body: { assignee: 'joe@shop.com' }, by: 'k1' })),
    ).toMatchObject({ code: 'conflict', field: 'assignee' });
    expect(await counts()).toEqual(closed);

    const quick = await createTask(ctx, { customer: 'dan', title: 'Thank Dan' }, 'cli');
    expect(
      await updateTask(ctx, {
        id: quick.task.id,
        body: { status: 'done', outcome: 'sent a card' },
        by: null,
      }),
    ).toMatchObject({ status: 'done' });
    const dropped = await createTask(ctx, { customer: 'dan', title: 'Ring Dan' }, 'cli');
    expect(
      await updateTask(ctx, {
        id: dropped.task.id,
        body: { status: 'cancelled', outcome: 'number disconnected' },
        by: null,
      }),
    ).toMatchObject({ status: 'cancelled', outcome: 'number disconnected', doneAt: null });
    expect(
      (await failure(updateTask(ctx, { id: dropped.task.id, body: { status: 'in_progress' }, by: null })))
        .message,
    ).toMatch(/is cancelled/);
  });

  it('lists due soonest first with filters and keyset pages', async () => {
    const all = await listTasks(ctx, { limit: '500' });
    const dues = all.data.map((t) => t.dueAt);
    const dated = dues.filter((d) => d !== null) as string[];
    expect(dated).toEqual([...dated].sort());
    expect(dues.indexOf(null)).toBe(dated.length); // the undated last
    const undatedIds = all.data.filter((t) => t.dueAt === null).map((t) => t.id);
    expect(undatedIds).toEqual([...undatedIds].sort((a, b) => a - b));

    const paged: number[] = [];
    let cursor: string | undefined;
    do {
      const p = await listTasks(ctx, { limit: '2', ...(cursor ? { cursor } : {}) });
      paged.push(...p.data.map((t) => t.id));
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all.data.map((t) => t.id));

    const open = await listTasks(ctx, { status: 'open,in_progress', limit: '500' });
    expect(open.data.every((t) => t.status === 'open' || t.status === 'in_progress')).toBe(true);
    expect(open.data.length).toBe(all.data.filter((t) => ['open', 'in_progress'].includes(t.status)).length);
    const mine = await listTasks(ctx, { assignee: 'MIA@shop.com', limit: '50' });
    expect(mine.data.length).toBeGreaterThan(0);
    expect(mine.data.every((t) => t.assignee === 'mia@shop.com')).toBe(true);
    const unassigned = await listTasks(ctx, { assignee: 'none', limit: '50' });
    expect(unassigned.data.every((t) => t.assignee === null)).toBe(true);
    const dan = await listTasks(ctx, { customer: 'dan', limit: '50' });
    expect(dan.data.map((t) => t.title).sort()).toEqual(['Call Dan', 'Ring Dan', 'Thank Dan']);
    const overdue = await listTasks(ctx, { overdue: 'true', limit: '50' });
    expect(overdue.data.map((t) => t.title)).toEqual(['Ask about the return']);
    expect(overdue.data[0]!.overdue).toBe(true);

    for (const [q, field] of [
      [{ status: 'open,finished' }, 'status'],
      [{ assignee: 'someone' }, 'assignee'],
      [{ overdue: 'yes' }, 'overdue'],
      [{ limit: '0' }, 'limit'],
      [{ cursor: 'garbage' }, 'cursor'],
      [{ sort: 'due' }, 'sort'],
    ] as const) {
      expect((await failure(listTasks(ctx, q))).field, JSON.stringify(q)).toBe(field);
    }
    expect(await failure(listTasks(ctx, { customer: 'nobody' }))).toMatchObject({
      code: 'not_found',
      field: 'customer',
    });
  });

  it('merging customers moves their tasks to the survivor; erasing a customer deletes theirs', async () => {
    const { task } = await createTask(ctx, { customer: 'bob', title: 'Follow up' }, 'cli');
    await mergeCustomers(ctx, { id: 'ann', body: { from: ['bob'] } });
    const moved = await getTask(ctx, { id: task.id });
    expect(moved.customer.id).toBe('ann');
    // The merged shop id still names the survivor's tasks.
    expect((await listTasks(ctx, { customer: 'bob', limit: '50' })).data.map((t) => t.id)).toContain(task.id);
    const [left] = await db.query<{ n: number }>(
      `SELECT COUNT(*) AS n FROM task_events WHERE customer_id = $1`,
      [ids.bob!],
    );
    expect(left!.n).toBe(0);

    await eraseCustomer(ctx, { id: 'ann', by: 'test' });
    const [gone] = await db.query<{ t: number; e: number }>(
      `SELECT (SELECT COUNT(*) FROM tasks WHERE customer_id = $1) AS t,
              (SELECT COUNT(*) FROM task_events WHERE customer_id = $1) AS e`,
      [ids.ann!],
    );
    expect(gone).toEqual({ t: 0, e: 0 });
    expect(await failure(getTask(ctx, { id: task.id }))).toMatchObject({ code: 'not_found' });
    // A flow step replayed for the erased customer creates nothing.
    expect(
      await failure(
        db.transaction((tx) =>
          createTaskIn(tx, {
            customerId: ids.ann!,
            title: 'Call Ann: win-back',
            source: 'flow:winback',
            sourceKey: 'flow:winback:run-1:call',
            now: clock.now(),
          }),
        ),
      ),
    ).toMatchObject({ code: 'not_found', field: 'customerId' });
  });
});
