// A campaign end to end (issue 25): BENCH_CAMPAIGN_CUSTOMERS (default 100,000) customers, all with a
// granted email consent, in an A/B campaign (two MJML templates with the first name, a button and the
// unsubscribe link; 45 % / 45 % and a 10 % holdout) on a rule segment of the email-consented — every
// customer. Timed, each as its own `retain` process: `campaigns create` + `campaigns launch` (the
// assignment of every member by the stable hash in one transaction, then each variant's messages queued
// through the send ledger), `send deliver` (render + SMTP to a local sink, bench/smtp-sink.mjs in its own
// process), and the two together; messages/min end to end and for delivery alone. On a DuckDB store and a
// PostgreSQL one (RETAIN_BENCH_DATABASE_URL or .ci/pg-start.sh; BENCH_CAMPAIGN_PG=0 skips it). Ceiling, in
// the same run: the bare nodemailer loop bench/messaging.mjs uses (lib.mjs nodemailerCeiling) with as many
// messages as the campaign sent (variant A's rendered message). Goal: ≥ 60,000 messages/min end to end.
//
// Checked (exit 1 if wrong): every customer assigned once; at the sink, as many messages as the
// variants' recipients, each X-Retain-Key once (keys are `campaign:<name>/variant-<key>/<customer>/<name>`,
// one campaign name per store); in the ledger, per variant, as many `sent` as the variant's recipients
// and nothing else, and no message for the holdout (the sink's total equals the variants' recipients, so
// none reached it). The sink counts distinct keys, not keys per variant: the split per variant is the
// ledger's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, nodemailerCeiling, postgresUrl, retain, startSink, table } from './lib.mjs';

const N = Number(process.env.BENCH_CAMPAIGN_CUSTOMERS ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'retain-bench-campaign-'));

const body = (line, cta) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>Hello {{ customer.first_name }}, ${line}</mj-text>` +
  `<mj-button href="https://shop.test/spring">${cta}</mj-button>` +
  `<mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;
const TEMPLATES = [
  {
    name: 'spring-a',
    subject: 'Spring is here, {{ customer.first_name }}',
    body: body("the spring collection is in. Have a look before it's gone.", 'See the collection'),
  },
  {
    name: 'spring-b',
    subject: '{{ customer.first_name }}, 15 % off the spring collection',
    body: body('15 % off everything new this week — our thanks for shopping with us.', 'Get 15 % off'),
  },
];
const CAMPAIGN = {
  rule: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
  variants: [
    { key: 'A', template: 'spring-a', share: 0.45 },
    { key: 'B', template: 'spring-b', share: 0.45 },
  ],
  holdoutShare: 0.1,
  windowDays: 30,
};

const wrong = [];
const results = [];
const perMin = (n, seconds) => (n / seconds) * 60;
try {
  const sink = await startSink();
  const env = {
    ...process.env,
    RETAIN_CHANNELS: JSON.stringify({
      email: { host: '127.0.0.1', port: sink.port, from: 'Shop <news@shop.test>' },
    }),
  };
  const csv = ['customer_id,email,first_name,email_consent'];
  for (let i = 1; i <= N; i++) csv.push(`c${i},c${i}@example.test,Name${i},yes`);
  writeFileSync(join(dir, 'customers.csv'), csv.join('\n') + '\n');
  for (const t of TEMPLATES)
    writeFileSync(
      join(dir, `${t.name}.json`),
      JSON.stringify({
        name: t.name,
        channel: 'email',
        kind: 'marketing',
        variants: [{ locale: 'en', subject: t.subject, body: t.body }],
      }),
    );

  /** Sets a store up (not timed), then times the campaign's create + launch and its delivery. */
  const campaignOn = async (engine, target) => {
    // A name per store, so that the keys (the sink counts distinct ones) differ between the runs; short,
    // so that the X-Retain-Key header stays on one line: nodemailer folds a header longer than 76
    // characters and the sink reads the first line only (`spring-postgresql` counted 8,956 of 89,948).
    const name = `spring-${engine === 'DuckDB' ? 'duck' : 'pg'}`;
    writeFileSync(join(dir, 'campaign.json'), JSON.stringify({ name, ...CAMPAIGN }));
    const run = async (args) => {
      const r = await retain([...target, ...args], { env });
      if (r.code !== 0) throw new Error(`retain ${args.join(' ')} (${engine}): ${r.stderr}`);
      return r;
    };
    await run(['import', 'customers', join(dir, 'customers.csv'), '--json']);
    await run(['messaging', '--public-url', 'https://shop.test', '--quiet', 'off', '--cap', 'off', '--json']);
    for (const t of TEMPLATES) await run(['templates', 'save', join(dir, `${t.name}.json`), '--json']);
    const preview = JSON.parse(
      (await run(['templates', 'preview', 'spring-a', '--customer', 'c1', '--json'])).stdout,
    );
    writeFileSync(join(dir, 'message.json'), JSON.stringify(preview));

    const before = await sink.count();
    const create = await run(['campaigns', 'create', join(dir, 'campaign.json'), '--json']);
    const launch = await run(['campaigns', 'launch', name, '--json']);
    const launched = JSON.parse(launch.stdout);
    const deliver = await run(['send', 'deliver', '--json']);
    const delivered = JSON.parse(deliver.stdout);
    const got = await sink.count();

    const arms = launched.arms;
    const messages = arms.A + arms.B;
    if (launched.recipients !== N || arms.holdout + messages !== N)
      wrong.push(
        `${engine}: ${launched.recipients} recipients assigned (arms ${JSON.stringify(arms)}) of ${N}`,
      );
    if (launched.queued !== messages || launched.alreadyQueued !== 0)
      wrong.push(
        `${engine}: launch queued ${launched.queued} (${launched.alreadyQueued} already) of ${messages}`,
      );
    if (delivered.sent !== messages)
      wrong.push(`${engine}: deliver sent ${delivered.sent} of ${messages} (${JSON.stringify(delivered)})`);
    const sinkMessages = got.messages - before.messages;
    const sinkKeys = got.keys - before.keys;
    if (sinkMessages !== messages || sinkKeys !== messages)
      wrong.push(`${engine}: the sink got ${sinkMessages} messages with ${sinkKeys} new keys of ${messages}`);
    // Per variant, from the ledger: every recipient of the variant `sent`, nothing else; the holdout none.
    const report = JSON.parse((await run(['campaigns', 'report', name, '--json'])).stdout);
    for (const a of report.arms) {
      const want = a.arm === 'holdout' ? {} : { sent: arms[a.arm] };
      if (a.recipients !== arms[a.arm] || JSON.stringify(a.messages) !== JSON.stringify(want))
        wrong.push(
          `${engine}: arm ${a.arm}: ${a.recipients} recipients (launch said ${arms[a.arm]}), messages ${JSON.stringify(a.messages)}`,
        );
    }
    const summary = JSON.parse((await run(['send', 'summary', '--json'])).stdout).counts;
    const all = Object.values(summary).reduce((s, n) => s + n, 0);
    if (all !== messages || summary.sent !== messages)
      wrong.push(`${engine}: the ledger holds ${JSON.stringify(summary)}, expected ${messages} sent only`);

    return {
      engine,
      arms,
      messages,
      launch: create.seconds + launch.seconds,
      create: create.seconds,
      deliver: deliver.seconds,
      bytes: (got.bytes - before.bytes) / Math.max(1, sinkMessages),
      peakMiB: Math.max(launch.peakMiB ?? 0, deliver.peakMiB ?? 0) || null,
    };
  };

  results.push(await campaignOn('DuckDB', ['--db', join(dir, 'campaign.duckdb')]));
  const pg = process.env.BENCH_CAMPAIGN_PG === '0' ? null : postgresUrl();
  if (!pg && process.env.BENCH_CAMPAIGN_PG !== '0')
    console.error('PostgreSQL not available: its rows are left out');
  if (pg)
    results.push(
      await campaignOn('PostgreSQL', [
        '--database-url',
        `${pg}${pg.includes('?') ? '&' : '?'}schema=bench_campaign_${process.pid}`,
      ]),
    );

  // The ceiling: bare nodemailer, the same pool and variant A's message, as many as the campaign sent.
  const M = results[0].messages;
  const bareSeconds = await nodemailerCeiling(sink, M, join(dir, 'message.json'), wrong);
  const ceiling = perMin(M, bareSeconds);
  await sink.close();

  const rows = [];
  for (const r of results) {
    const total = r.launch + r.deliver;
    rows.push([
      r.engine,
      r.messages.toLocaleString('en-US'),
      fmt(r.launch, 1),
      fmt(r.deliver, 1),
      fmt(total, 1),
      fmt(perMin(r.messages, total), 0),
      fmt(perMin(r.messages, r.deliver), 0),
      fmt(perMin(r.messages, r.deliver) / ceiling, 2),
      fmt(r.peakMiB, 0),
    ]);
  }
  rows.push([
    'bare nodemailer loop (ceiling)',
    M.toLocaleString('en-US'),
    '',
    fmt(bareSeconds, 1),
    '',
    '',
    fmt(ceiling, 0),
    '1.00',
    '',
  ]);
  const { arms } = results[0];
  console.log(
    `\n${N.toLocaleString('en-US')} customers assigned (A ${arms.A}, B ${arms.B}, holdout ${arms.holdout} on DuckDB); ` +
      `emails to a local SMTP sink (~${fmt(results[0].bytes / 1024, 1)} KiB each)`,
  );
  console.log(
    table(
      [
        'store',
        'messages',
        'create+launch s',
        'deliver s',
        'total s',
        'msgs/min end to end',
        'msgs/min delivery',
        'delivery / ceiling',
        'peak MiB',
      ],
      rows,
    ),
  );
  console.log(
    `goal ≥ 60,000 messages/min end to end — ${results
      .map((r) => `${r.engine}: ${perMin(r.messages, r.launch + r.deliver) >= 60_000 ? 'met' : 'not met'}`)
      .join('; ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (wrong.length) {
  console.error(wrong.join('\n'));
  process.exit(1);
}
