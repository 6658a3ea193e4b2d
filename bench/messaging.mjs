// The one send path (issue 21): BENCH_SEND_EMAILS (default 100,000) marketing emails from a template,
// through the send ledger (consent, cap and quiet-hour checks, claim before the provider, result after),
// to a local SMTP sink (bench/smtp-sink.mjs, its own process). `retain send deliver` is timed after
// `retain send queue`, on a DuckDB store and on a PostgreSQL one (RETAIN_BENCH_DATABASE_URL or
// .ci/pg-start.sh; BENCH_SEND_PG=0 skips it). Ceiling, in the same run: a bare nodemailer loop (the same
// pool, 5 connections × 100 messages, and the same rendered message with the same headers) to the same
// sink. Goal: ≥ 60,000/min and ≥ 70 % of the ceiling. Exits 1 only if a message is lost or doubled.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, nodemailerCeiling, postgresUrl, retain, startSink, table } from './lib.mjs';

const N = Number(process.env.BENCH_SEND_EMAILS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'retain-bench-send-'));
const db = join(dir, 'send.duckdb');

const BODY =
  `<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}, here are this week's picks.</mj-text>` +
  `<mj-text>Use {{ discount_code }} at checkout.</mj-text><mj-button href="https://shop.test/picks">See them</mj-button>` +
  `<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;

const wrong = [];
const rows = [];
try {
  const sink = await startSink();
  const channels = JSON.stringify({
    email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>' },
  });
  const env = { ...process.env, RETAIN_CHANNELS: channels };
  // The store: N customers with a granted email consent.
  const csv = ['customer_id,email,first_name,email_consent'];
  const ids = [];
  for (let i = 1; i <= N; i++) {
    csv.push(`c${i},c${i}@example.test,Name${i},yes`);
    ids.push(`c${i}`);
  }
  writeFileSync(join(dir, 'customers.csv'), csv.join('\n') + '\n');
  writeFileSync(join(dir, 'ids.txt'), ids.join('\n') + '\n');
  writeFileSync(
    join(dir, 'template.json'),
    JSON.stringify({
      name: 'picks',
      channel: 'email',
      kind: 'marketing',
      variants: [{ locale: 'en', subject: 'Picks for {{ customer.first_name }}', body: BODY }],
    }),
  );
  /** Sets a store up, queues N messages and times `retain send deliver` on it. */
  const sendOn = async (target, occurrence) => {
    const run = async (args) => {
      const r = await retain([...target, ...args], { env });
      if (r.code !== 0) throw new Error(`retain ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    await run(['import', 'customers', join(dir, 'customers.csv'), '--json']);
    await run(['messaging', '--public-url', 'https://shop.test', '--quiet', 'off', '--cap', 'off', '--json']);
    await run(['templates', 'save', join(dir, 'template.json'), '--json']);
    const queued = await run([
      'send',
      'queue',
      'picks',
      '--customers',
      join(dir, 'ids.txt'),
      '--occurrence',
      occurrence,
      '--var',
      'discount_code=PICKS10',
      '--json',
    ]);
    // The ceiling sends the very message Retain renders (the preview of the first contact), so the
    // ratio is what the ledger, the checks and the rendering cost on top of nodemailer.
    const preview = JSON.parse(
      (await run(['templates', 'preview', 'picks', '--customer', 'c1', '--json'])).stdout,
    );
    writeFileSync(join(dir, 'message.json'), JSON.stringify(preview));
    const before = await sink.count();
    const delivered = await run(['send', 'deliver', '--json']);
    const counts = JSON.parse(delivered.stdout);
    const got = await sink.count();
    const messages = got.messages - before.messages;
    const keys = got.keys - before.keys;
    if (counts.sent !== N || messages !== N || keys !== N)
      wrong.push(
        `send path (${target[0]}): ledger sent ${counts.sent}, sink ${messages} messages / ${keys} new keys of ${N}`,
      );
    return { queued, delivered, bytes: (got.bytes - before.bytes) / Math.max(1, messages) };
  };
  const onDuck = await sendOn(['--db', db], 'bench-duckdb');
  const pg = process.env.BENCH_SEND_PG === '0' ? null : postgresUrl();
  if (!pg) console.error('PostgreSQL not available: its row is left out');
  const onPg = pg
    ? await sendOn(
        ['--database-url', `${pg}${pg.includes('?') ? '&' : '?'}schema=bench_send_${process.pid}`],
        'bench-postgres',
      )
    : null;
  const { queued, delivered } = onDuck;
  const perMin = (N / delivered.seconds) * 60;
  const avgBytes = onDuck.bytes;

  // The ceiling: bare nodemailer, the same pool and the same message, to the same sink.
  const bareSeconds = await nodemailerCeiling(sink, N, join(dir, 'message.json'), wrong);
  const ceiling = (N / bareSeconds) * 60;
  await sink.close();
  rows.push([
    'retain send deliver, DuckDB ledger (embedded)',
    fmt(delivered.seconds, 1),
    fmt(perMin, 0),
    fmt(perMin / ceiling, 2),
  ]);
  if (onPg) {
    const pgPerMin = (N / onPg.delivered.seconds) * 60;
    rows.push([
      'retain send deliver, PostgreSQL ledger',
      fmt(onPg.delivered.seconds, 1),
      fmt(pgPerMin, 0),
      fmt(pgPerMin / ceiling, 2),
    ]);
  }
  rows.push(['bare nodemailer loop (ceiling)', fmt(bareSeconds, 1), fmt(ceiling, 0), '1.00']);
  console.log(
    `\n${N.toLocaleString('en-US')} emails to a local SMTP sink (~${fmt(avgBytes / 1024, 1)} KiB each); queueing took ${fmt(queued.seconds, 1)} s`,
  );
  console.log(table(['sender', 'seconds', 'messages/min', 'ratio to ceiling'], rows));
  const goal = (label, seconds) => {
    const m = (N / seconds) * 60;
    return `${label}: ≥ 60,000/min ${m >= 60_000 ? 'met' : 'not met'}, ≥ 70 % of the ceiling ${m / ceiling >= 0.7 ? 'met' : 'not met'}`;
  };
  console.log(
    `goal — ${goal('DuckDB', delivered.seconds)}${onPg ? `; ${goal('PostgreSQL', onPg.delivered.seconds)}` : ''}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (wrong.length) {
  console.error(wrong.join('\n'));
  process.exit(1);
}
