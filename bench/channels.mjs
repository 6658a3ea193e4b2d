#!/usr/bin/env node
// The email channel's pool (src/modules/messaging/channels/email.ts) against a local SMTP sink
// (test/support/smtpSink.ts, smtp-server + mailparser, in this process): BENCH_EMAILS (default 1,000)
// messages sent at once, with the default pool (5 connections × 100 messages), one pooled connection,
// and the peer: a new connection per message (maxMessages 1, what an unpooled transport does).
// Prints messages/s and the ratio to the peer; exits 1 only if a message is lost or doubled.
import { fmt, importSource, importTestSupport, table } from './lib.mjs';

const n = Number(process.env.BENCH_EMAILS ?? 1000);
const { startSmtpSink } = await importTestSupport('smtpSink');
const { emailChannel } = await importSource('src/modules/messaging/channels/email.ts');

async function run(label, pool) {
  const sink = await startSmtpSink();
  const channel = emailChannel(
    { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>', pool },
    {},
  );
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      channel.send({
        key: `bench:${i}`,
        to: `c${i}@example.test`,
        subject: 'Your weekly picks',
        text: `Hello ${i}, here are this week's picks.`.repeat(20),
        html: `<p>Hello ${i}</p>`.repeat(40),
        unsubscribeUrl: `https://shop.test/u/${i}`,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  await channel.close();
  await sink.close();
  const keys = new Set(sink.messages.map((m) => m.header('x-retain-key')));
  const ok = outcomes.every((o) => o.status === 'sent') && sink.messages.length === n && keys.size === n;
  return { label, seconds, rate: n / seconds, sessions: sink.sessions, ok };
}

const rows = [
  await run('pool 5 × 100 (default)', { maxConnections: 5, maxMessages: 100 }),
  await run('pool 1 × 100', { maxConnections: 1, maxMessages: 100 }),
  await run('peer: connection per message', { maxConnections: 5, maxMessages: 1 }),
];
const peer = rows[2].rate;
console.log(`${n} emails to a local SMTP sink (same process; timings include the sink's parsing)`);
console.log(
  table(
    ['transport', 'seconds', 'msgs/s', 'sessions', '× peer', 'all once'],
    rows.map((r) => [
      r.label,
      fmt(r.seconds),
      fmt(r.rate, 0),
      r.sessions,
      fmt(r.rate / peer),
      r.ok ? 'yes' : 'NO',
    ]),
  ),
);
process.exit(rows.every((r) => r.ok) ? 0 : 1);
