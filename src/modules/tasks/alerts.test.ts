import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { upsertCustomer } from '../customers/service.js';
import { setChannelConfig } from '../messaging/service.js';
import { createUser } from '../users/service.js';
import { alertOverdue } from './alerts.js';
import { createTask, updateTask } from './service.js';

/** Issue 27: overdue tasks email their assignee, once per task and due time, in the store's language. */
describe.each(testEngines())('overdue alerts on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  const clock = new ManualClock('2026-03-02T09:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    const ctx = testContext(db, clock);
    await upsertCustomer(ctx, { body: { customer_id: 'ann', email: 'ann@example.com', first_name: 'Ann' } });
    await createUser(ctx, { email: 'mia@shop.com', role: 'agent', password: 'correct horse battery' });
  });
  afterAll(async () => {
    await sink?.close();
    await dispose?.();
  });

  it('without an email channel does nothing and says so; with one, alerts each overdue task once', async () => {
    const ctx = testContext(db, clock);
    const due = '2026-03-02T12:00:00Z';
    const a = await createTask(
      ctx,
      { customer: 'ann', title: 'Call Ann', assignee: 'mia@shop.com', dueAt: due },
      'test',
    );
    await createTask(ctx, { customer: 'ann', title: 'Unassigned', dueAt: due }, 'test');
    await createTask(
      ctx,
      { customer: 'ann', title: 'Later', assignee: 'mia@shop.com', dueAt: '2026-03-09T12:00:00Z' },
      'test',
    );
    expect(await alertOverdue(ctx)).toMatchObject({ alerted: 0, skipped: 'no email channel is configured' });
    await setChannelConfig(
      ctx,
      {
        email: { host: '127.0.0.1', port: sink.port, from: 'Shop <s@shop.test>', timeoutMs: 10_000 },
      },
      'test',
    );
    expect(await alertOverdue(ctx)).toMatchObject({ alerted: 0 });
    clock.set('2026-03-02T12:01:00Z');
    expect(await alertOverdue(ctx)).toMatchObject({ alerted: 1 });
    expect(await alertOverdue(ctx)).toMatchObject({ alerted: 0 });
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.envelope.to).toEqual(['mia@shop.com']);
    expect(sink.messages[0]!.parsed.subject).toBe('Overdue: Call Ann');
    expect(sink.messages[0]!.parsed.text).toContain('Customer: ann — Ann');
    // A new due time, when it passes, alerts again; a done task never.
    await updateTask(ctx, { id: a.task.id, body: { dueAt: '2026-03-03T09:00:00Z' }, by: 'test' });
    clock.set('2026-03-03T10:00:00Z');
    expect(await alertOverdue(ctx)).toMatchObject({ alerted: 1 });
    await updateTask(ctx, { id: a.task.id, body: { dueAt: '2026-03-03T11:00:00Z' }, by: 'test' });
    await updateTask(ctx, { id: a.task.id, body: { status: 'done', outcome: 'called' }, by: 'test' });
    clock.set('2026-03-03T12:00:00Z');
    expect(await alertOverdue(ctx)).toMatchObject({ alerted: 0 });
    expect(sink.messages).toHaveLength(2);
  });
});
