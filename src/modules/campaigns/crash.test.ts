import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT as root } from '../../../test/support/bundle.js';
import { seedContacts } from '../../../test/support/contacts.js';
import { testContext } from '../../../test/support/context.js';
import { bundleChildScript, crashStore } from '../../../test/support/crash.js';
import { sendCrashSink } from '../../../test/support/sendCrash.js';
import type { SmtpSink } from '../../../test/support/smtpSink.js';
import { testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import { GROUP_MAX, saveTemplate, setPolicy } from '../messaging/service.js';
import { createCampaign } from './service.js';

/**
 * Issue 25: "kill -9 mid-send and resume → still exactly one each". A child process launches the A/B
 * campaign and delivers it to the SMTP sink in this process; when the sink has taken K messages it
 * SIGKILLs the child (from inside its acceptance of message K). A second child launches again (the
 * assignments and the queued keys are found, nothing is added) and delivers the rest. Each campaign key
 * reaches the sink at most once, the holdout gets nothing, and only the few messages the crash left
 * `unknown` (the messaging ledger's crash window, never resent) are not exactly once.
 */
const CHILD = `
import pino from 'pino';
import { openStore } from ${JSON.stringify(join(root, 'src/modules/store.ts'))};
import { launchCampaign } from ${JSON.stringify(join(root, 'src/modules/campaigns/service.ts'))};
import { deliverConfigured } from ${JSON.stringify(join(root, 'src/modules/messaging/service.ts'))};
import { ManualClock } from ${JSON.stringify(join(root, 'src/kit/clock.ts'))};
import { configureSmtpThread } from ${JSON.stringify(join(root, 'src/modules/messaging/channels/smtpTransport.ts'))};
configureSmtpThread(process.env.SMTP_WORKER);
const [engine, target, schema, now] = process.argv.slice(2);
const store = await openStore(engine === 'postgres' ? { databaseUrl: target, schema } : { db: target });
const ctx = { db: store, clock: new ManualClock(now), jobs: { enqueueIn: async () => ({}), wakeIn: async () => ({ created: false }), notify() {} }, log: pino({ level: 'silent' }) };
const launched = await launchCampaign(ctx, { name: 'spring' });
process.stdout.write('launched ' + JSON.stringify({ queued: launched.queued, alreadyQueued: launched.alreadyQueued }) + '\\n');
const r = await deliverConfigured(ctx, { staleMs: 0 });
process.stdout.write('done ' + JSON.stringify(r) + '\\n');
await store.close();
process.exit(0);
`;

const N = 800;
describe.each(testEngines())('a campaign under kill -9 on %s', (engine) => {
  let script: string;
  let sink: SmtpSink;
  let run: Awaited<ReturnType<typeof sendCrashSink>>['run'];
  const store = crashStore(engine, 'campaign-crash');
  const now = '2026-03-10T12:00:00Z';

  beforeAll(async () => {
    script = await bundleChildScript(CHILD, 'campaign-crash-child');
    ({ sink, run } = await sendCrashSink());
    const db = await store.open();
    try {
      await seedContacts(db, { n: N, now: new Date(now) });
      const ctx = testContext(db, new ManualClock(now));
      await setPolicy(ctx, { publicUrl: 'https://shop.test', quietHours: null, frequencyCap: null });
      for (const name of ['spring-a', 'spring-b'])
        await saveTemplate(ctx, {
          by: 'test',
          body: {
            name,
            channel: 'email',
            kind: 'marketing',
            variants: [
              {
                locale: 'en',
                subject: name,
                body: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi <a href="{{ unsubscribe_url }}">unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>',
              },
            ],
          },
        });
      await createCampaign(ctx, {
        name: 'spring',
        rule: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
        variants: [
          { key: 'A', template: 'spring-a', share: 0.45 },
          { key: 'B', template: 'spring-b', share: 0.45 },
        ],
      });
    } finally {
      await db.close();
    }
  }, 120_000);
  afterAll(async () => {
    await sink?.close();
    await store.dispose();
  });

  it('resumed after kill -9, each recipient has at most one message, the holdout none', async () => {
    const first = await run(script, store.args.concat(now), 101);
    expect(first.killed).toBe(true);
    const second = await run(script, store.args.concat(now), null);
    expect(second.killed).toBe(false);
    // The relaunch queued nothing new: the first launch's keys were all there.
    expect(second.reported.launched).toMatchObject({ queued: 0 });

    const keys = new Map<string, number>();
    for (const m of sink.messages) {
      const key = m.header('x-retain-key') as string;
      keys.set(key, (keys.get(key) ?? 0) + 1);
    }
    expect([...keys.values()].every((n) => n === 1)).toBe(true);
    const db = await store.open();
    try {
      const sends = await db.query<{ send_key: string; status: string; customer_id: number; step: string }>(
        `SELECT send_key, status, customer_id, step FROM message_sends WHERE source = 'campaign:spring'`,
      );
      const arms = new Map(
        (
          await db.query<{ customer_id: number; arm: string }>(
            `SELECT customer_id, arm FROM campaign_recipients`,
          )
        ).map((r) => [r.customer_id, r.arm]),
      );
      // One ledger row per variant recipient, of their variant; none for the holdout.
      const variantRecipients = [...arms.values()].filter((a) => a !== 'holdout').length;
      expect(sends.length).toBe(variantRecipients);
      for (const s of sends) expect(s.step).toBe(`variant-${arms.get(s.customer_id)}`);
      const by = (st: string) => sends.filter((s) => s.status === st);
      for (const s of by('sent')) expect(keys.get(s.send_key), s.send_key).toBe(1);
      expect(by('queued').length + by('sending').length).toBe(0);
      const unknown = by('unknown');
      // Exactly once for all but the crash window's few (at most once for them, never resent): at most
      // what one crash can leave in flight (the messaging crash test's bound: deliverDue's concurrency
      // 10, two groups claimed per sender, a chunk of 100 handed over per ledger round trip).
      expect(unknown.length).toBeLessThanOrEqual(10 + 2 * GROUP_MAX + Math.max(GROUP_MAX, 100));
      expect(by('sent').length + unknown.filter((s) => keys.has(s.send_key)).length).toBe(
        sink.messages.length,
      );
      for (const d of sink.dropped) expect(keys.has(d.header('x-retain-key') as string)).toBe(false);
      process.stdout.write(
        `[campaign crash ${engine}] ${arms.size} assigned, ${variantRecipients} in variants; sink ${sink.messages.length} messages, each key once; sent ${by('sent').length}, unknown ${unknown.length}, skipped ${by('skipped').length}\n`,
      );
    } finally {
      await db.close();
    }
  }, 180_000);
});
