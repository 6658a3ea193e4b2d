import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupOf, idOf, seedContacts } from '../../../test/support/contacts.js';
import { testContext } from '../../../test/support/context.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtpSink.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { emailChannel } from './channels/email.js';
import { advanceSends, stampSends } from './repository.js';
import { deliverDue, queueSend, saveTemplate, setPolicy } from './service.js';

/**
 * The send path's commit point (issue 26: a kill -9 during delivery must skip nothing). A row claimed
 * by a deliverer that died before handing it over is queued again and delivered; one accepted by the
 * provider is finished as sent; one handed over without an answer is `unknown`. And the SMTP adapter
 * really holds the message before the end of DATA: a refused hand-over leaves nothing at the server.
 */
describe.each(testEngines())('the hand-over on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let sink: SmtpSink;
  const clock = new ManualClock('2026-03-10T12:00:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    sink = await startSmtpSink();
    const ctx = testContext(db, clock);
    await seedContacts(db, { n: 30, now: clock.now() });
    await setPolicy(ctx, { publicUrl: 'https://shop.test', quietHours: null, frequencyCap: null });
    await saveTemplate(ctx, {
      by: 'test',
      body: {
        name: 'note',
        channel: 'email',
        kind: 'marketing',
        variants: [
          {
            locale: 'en',
            subject: 'Note for {{ customer.first_name }}',
            body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi <a href="{{ unsubscribe_url }}">unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
          },
        ],
      },
    });
  }, 60_000);
  afterAll(async () => {
    await sink?.close();
    await dispose?.();
  });

  const channel = () =>
    emailChannel({ host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 });
  const statusOf = async (key: string) =>
    (await db.query<{ status: string }>(`SELECT status FROM message_sends WHERE send_key = $1`, [key]))[0]
      ?.status;

  it('a dead deliverer’s rows: claimed → queued and delivered, accepted → sent, handed over → unknown', async () => {
    const ctx = testContext(db, clock);
    const granted = Array.from({ length: 30 }, (_, i) => i + 1).filter((i) => groupOf(i) === 'granted');
    await queueSend(ctx, { template: 'note', customers: granted.slice(0, 3).map(idOf), occurrence: 'crash' });
    const keys = (
      await db.query<{ send_key: string }>(
        `SELECT send_key FROM message_sends WHERE occurrence = 'crash' ORDER BY send_key`,
      )
    ).map((r) => r.send_key);
    expect(keys).toHaveLength(3);
    const [claimed, accepted, handed] = keys as [string, string, string];
    // A deliverer run `dead` claimed all three, handed two over, and had the provider accept one.
    const moved = await advanceSends(
      db,
      db.dialect,
      clock.now(),
      'dead',
      keys.map((key) => ({ key, from: 'queued', to: 'sending', claim: true })),
    );
    expect([...moved.values()]).toEqual(['sending', 'sending', 'sending']);
    expect(await stampSends(db, db.dialect, clock.now(), 'dead', [accepted, handed], [])).toEqual(
      new Set([accepted, handed]),
    );
    await stampSends(
      db,
      db.dialect,
      clock.now(),
      'dead',
      [],
      [{ key: accepted, providerId: 'q1', address: 'someone@example.test', locale: 'en' }],
    );
    // Another run cannot hand over the dead run's claim.
    expect(await stampSends(db, db.dialect, clock.now(), 'other', [claimed], [])).toEqual(new Set());

    const before = sink.messages.length;
    const email = channel();
    try {
      // Within a minute of the claim nothing is decided: the claimer may still be alive.
      const early = await deliverDue(ctx, { channels: { email } });
      expect(early).toMatchObject({ sent: 0, requeued: 0, unknown: 0, recoveredSent: 0 });
      expect(await statusOf(claimed)).toBe('sending');
      clock.advance(61_000);
      const r = await deliverDue(ctx, { channels: { email } });
      // The claim was queued again and delivered; the accepted one finished as sent; the handed-over
      // one waits for the 10 minutes beyond any provider timeout.
      expect(r).toMatchObject({ sent: 1, requeued: 1, unknown: 0, recoveredSent: 1 });
      expect(await statusOf(claimed)).toBe('sent');
      expect(await statusOf(accepted)).toBe('sent');
      expect(await statusOf(handed)).toBe('sending');
      clock.advance(600_000);
      expect(await deliverDue(ctx, { channels: { email } })).toMatchObject({ unknown: 1 });
      expect(await statusOf(handed)).toBe('unknown');
    } finally {
      await email.close();
    }
    const arrived = sink.messages.slice(before).map((m) => m.header('x-retain-key'));
    expect(arrived).toEqual([claimed]);
    const [row] = await db.query<{ attempts: number; provider_id: string | null }>(
      `SELECT attempts, provider_id FROM message_sends WHERE send_key = $1`,
      [claimed],
    );
    // The dead run's claim was not counted as an attempt.
    expect(row!.attempts).toBe(1);
  });
});

/** The adapter's own behaviour: no database, so once rather than per engine. */
describe('the SMTP hand-over', () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => sink?.close());
  const channel = () =>
    emailChannel({ host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', timeoutMs: 10_000 });

  it('the SMTP session waits before the end of DATA; a refused hand-over leaves nothing at the server', async () => {
    const email = channel();
    const before = sink.messages.length;
    try {
      let arrivedBeforeCommit = -1;
      const ok = await email.send({
        key: 'test:handover:1',
        to: 'h4@example.test',
        subject: 'one',
        text: 'one',
        handOver: async () => {
          // The whole message is written; the server has not got it (no end of DATA yet).
          await new Promise((r) => setTimeout(r, 200));
          arrivedBeforeCommit = sink.messages.length - before;
        },
      });
      expect(ok.status).toBe('sent');
      expect(arrivedBeforeCommit).toBe(0);
      expect(sink.messages.length - before).toBe(1);

      const refused = await email.send({
        key: 'test:handover:2',
        to: 'h5@example.test',
        subject: 'two',
        text: 'two',
        handOver: async () => {
          throw new Error('no longer this sender’s');
        },
      });
      expect(refused.status).toBe('retry');
      await new Promise((r) => setTimeout(r, 200));
      expect(sink.messages.map((m) => m.header('x-retain-key'))).not.toContain('test:handover:2');
      // The pool carries on after the cut session.
      expect(
        (await email.send({ key: 'test:handover:3', to: 'h6@example.test', subject: 'three', text: 'three' }))
          .status,
      ).toBe('sent');
    } finally {
      await email.close();
    }
  });
});
