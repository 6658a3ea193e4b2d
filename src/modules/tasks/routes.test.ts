import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { upsertCustomer } from '../customers/service.js';
import { createUser } from '../users/service.js';

/** The tasks API: roles, 2xx and 4xx shapes, nothing written by a refused request. */
describe.each(testEngines())('tasks routes on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const clock = new ManualClock('2026-04-01T08:00:00Z');

  const written = async () =>
    (
      await db.query<{ tasks: number; events: number; updated: string | null }>(
        `SELECT (SELECT COUNT(*) FROM tasks) AS tasks, (SELECT COUNT(*) FROM task_events) AS events,
           (SELECT CAST(MAX(updated_at) AS TEXT) FROM tasks) AS updated`,
      )
    )[0]!;

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    t = await testApp(db, { clock });
    await upsertCustomer(t.deps, {
      body: { customer_id: 'ann', email: 'ann@example.com', first_name: 'Ann', last_name: 'Lee' },
    });
    await createUser(t.deps, { email: 'mia@shop.com', role: 'agent', password: 'correct horse battery' });
  });
  afterAll(() => dispose());

  it('agents, marketers and admins create, read and update; analysts only read', async () => {
    for (const role of ['agent', 'marketer', 'admin'] as const) {
      const created = await t.call('POST', '/v1/tasks', {
        role,
        body: {
          customer: 'ann',
          title: `Call Ann (${role})`,
          assignee: 'mia@shop.com',
          dueAt: '2026-04-02T10:00:00Z',
        },
      });
      expect(created.status, role).toBe(201);
      expect(created.json).toMatchObject({
        created: true,
        task: {
          customer: { id: 'ann', email: 'ann@example.com', name: 'Ann Lee' },
          title: `Call Ann (${role})`,
          assignee: 'mia@shop.com',
          status: 'open',
          dueAt: '2026-04-02T10:00:00.000Z',
          overdue: false,
          source: 'manual',
          history: [{ at: '2026-04-01T08:00:00.000Z', change: expect.stringMatching(/^created \(manual\)/) }],
        },
      });
      expect(created.json.task.history[0].by).toMatch(/^[a-z0-9]{10}$/); // the key's id
      const id = created.json.task.id as number;
      expect((await t.call('GET', `/v1/tasks/${id}`, { role })).status).toBe(200);
      const moved = await t.call('PATCH', `/v1/tasks/${id}`, { role, body: { status: 'in_progress' } });
      expect(moved.status).toBe(200);
      expect(moved.json).toMatchObject({ id, status: 'in_progress' });
    }
    const list = await t.call('GET', '/v1/tasks?status=in_progress&assignee=mia@shop.com', {
      role: 'analyst',
    });
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(3);
    expect(list.json.nextCursor).toBeNull();
    const id = list.json.data[0].id as number;
    expect((await t.call('GET', `/v1/tasks/${id}`, { role: 'analyst' })).status).toBe(200);

    const before = await written();
    const refused = await t.call('POST', '/v1/tasks', {
      role: 'analyst',
      body: { customer: 'ann', title: 'x' },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe('forbidden');
    expect(
      (await t.call('PATCH', `/v1/tasks/${id}`, { role: 'analyst', body: { status: 'cancelled' } })).status,
    ).toBe(403);
    expect((await t.call('GET', '/v1/tasks')).status).toBe(401);
    expect(await written()).toEqual(before);

    const doc = (await t.call('GET', '/openapi.json')).json;
    expect(doc.paths['/v1/tasks'].get.description).toContain('Roles: admin, analyst, marketer, agent.');
    expect(doc.paths['/v1/tasks'].post.description).toContain('Roles: admin, marketer, agent.');
    expect(doc.paths['/v1/tasks/{id}'].patch.description).toContain('Roles: admin, marketer, agent.');
    expect(Object.keys(doc.paths['/v1/tasks/{id}'].patch.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404', '409']),
    );
  });

  it('an Idempotency-Key (header or body) answers the first task with 200 and creates nothing', async () => {
    const body = { customer: 'ann', title: 'Send the invoice again' };
    const first = await t.call('POST', '/v1/tasks', {
      role: 'agent',
      body,
      headers: { 'idempotency-key': 'inv-7' },
    });
    expect(first.status).toBe(201);
    const before = await written();
    const again = await t.call('POST', '/v1/tasks', {
      role: 'agent',
      body,
      headers: { 'idempotency-key': 'inv-7' },
    });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ created: false, task: { id: first.json.task.id } });
    const inBody = await t.call('POST', '/v1/tasks', {
      role: 'agent',
      body: { ...body, idempotencyKey: 'inv-7' },
    });
    expect(inBody.status).toBe(200);
    expect(await written()).toEqual(before);
  });

  it('errors have the one shape, name the field, and write nothing', async () => {
    const created = await t.call('POST', '/v1/tasks', {
      role: 'agent',
      body: { customer: 'ann', title: 'Check the parcel' },
    });
    const id = created.json.task.id as number;
    const before = await written();
    const cases: [string, string, unknown, number, string | undefined][] = [
      ['POST', '/v1/tasks', { title: 'no customer' }, 400, 'customer'],
      ['POST', '/v1/tasks', { customer: 'ann', title: ' ' }, 400, 'title'],
      ['POST', '/v1/tasks', { customer: 'ann', title: 'x', assignee: 'ghost@shop.com' }, 400, 'assignee'],
      ['POST', '/v1/tasks', { customer: 'ann', title: 'x', dueAt: 'soon' }, 400, 'dueAt'],
      ['POST', '/v1/tasks', { customer: 'ann', title: 'x', colour: 'red' }, 400, 'colour'],
      ['POST', '/v1/tasks', { customer: 'zed', title: 'x' }, 404, 'customer'],
      ['POST', '/v1/tasks', 'not json', 400, undefined],
      ['PATCH', `/v1/tasks/${id}`, { status: 'done' }, 400, 'outcome'],
      ['PATCH', `/v1/tasks/${id}`, { status: 'closed' }, 400, 'status'],
      ['PATCH', `/v1/tasks/${id}`, { outcome: 'talked' }, 400, 'outcome'],
      ['PATCH', `/v1/tasks/${id}`, {}, 400, 'status'],
      ['PATCH', '/v1/tasks/abc', { status: 'cancelled' }, 400, 'id'],
      ['PATCH', '/v1/tasks/999999', { status: 'cancelled' }, 404, 'id'],
      ['GET', '/v1/tasks/999999', undefined, 404, 'id'],
      ['GET', '/v1/tasks?status=later', undefined, 400, 'status'],
      ['GET', '/v1/tasks?overdue=1', undefined, 400, 'overdue'],
      ['GET', '/v1/tasks?customer=zed', undefined, 404, 'customer'],
      ['GET', '/v1/tasks?cursor=nope', undefined, 400, 'cursor'],
      ['GET', '/v1/tasks?assigne=mia@shop.com', undefined, 400, 'assigne'],
    ];
    for (const [method, path, body, status, field] of cases) {
      const r = await t.call(method, path, { role: 'admin', ...(body !== undefined ? { body } : {}) });
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(r.json.error.message, path).toEqual(expect.any(String));
      const named = r.json.error.details?.field ?? r.json.error.details?.issues?.[0]?.path;
      expect(named, `${method} ${path} ${JSON.stringify(body)}`).toBe(field);
    }
    expect(await written()).toEqual(before);

    const done = await t.call('PATCH', `/v1/tasks/${id}`, {
      role: 'agent',
      body: { status: 'done', outcome: 'Arrived, customer happy' },
    });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ status: 'done', doneAt: '2026-04-01T08:00:00.000Z' });
    const closed = await written();
    const conflict = await t.call('PATCH', `/v1/tasks/${id}`, {
      role: 'agent',
      body: { status: 'in_progress' },
    });
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toMatchObject({
      code: 'conflict',
      message: `task ${id} is done: a closed task does not move again`,
      details: { field: 'status' },
    });
    expect(await written()).toEqual(closed);
  });

  it('lists overdue tasks and pages with nextCursor', async () => {
    clock.set(new Date('2026-04-03T00:00:00Z'));
    const overdue = await t.call('GET', '/v1/tasks?overdue=true', { role: 'agent' });
    expect(overdue.status).toBe(200);
    expect(overdue.json.data.length).toBeGreaterThan(0);
    expect(overdue.json.data.every((x: { overdue: boolean }) => x.overdue)).toBe(true);
    const all = (await t.call('GET', '/v1/tasks?limit=500', { role: 'agent' })).json.data.map(
      (x: { id: number }) => x.id,
    );
    const seen: number[] = [];
    let path = '/v1/tasks?limit=2';
    for (;;) {
      const p = await t.call('GET', path, { role: 'agent' });
      seen.push(...p.json.data.map((x: { id: number }) => x.id));
      if (!p.json.nextCursor) break;
      path = `/v1/tasks?limit=2&cursor=${p.json.nextCursor}`;
    }
    expect(seen).toEqual(all);
  });
});
