// Identity stitching (issue 21): what linking anonymous ids costs an events import.
//
// A generated NDJSON file of BENCH_IDENTITY_EVENTS events (default 500,000) from visitors with an
// anonymous id; one visitor in five identifies (an `identify` event carrying both ids) halfway through
// their events. It is imported twice into fresh DuckDB files with `retain import events`: first
// browsing without the identify events (the store keeps anonymous events), then the identify events
// (which link the ids and back-fill the stored events). Peer: the same identify events with their
// anonymous id left out (no links, no back-fill), imported into a copy of the same store in the same
// run. Prints seconds and the ratio; fails only on wrong results (the back-filled count).
//
//   npm run build && npm run bench -- identity
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, retain, table } from './lib.mjs';

const EVENTS = Number(process.env.BENCH_IDENTITY_EVENTS ?? 500_000);
const PER_VISITOR = 10;
const dir = mkdtempSync(join(tmpdir(), 'retain-bench-identity-'));

async function write(file, rows) {
  const out = createWriteStream(file);
  for (const r of rows)
    if (!out.write(JSON.stringify(r) + '\n')) await new Promise((ok) => out.once('drain', ok));
  await new Promise((ok) => out.end(ok));
}

function* browsing() {
  const start = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 0; i < EVENTS; i++) {
    const v = Math.floor(i / PER_VISITOR);
    yield {
      event_id: `b-${i}`,
      type: 'page_view',
      anonymous_id: `anon-${v}`,
      occurred_at: new Date(start + i * 1000).toISOString(),
    };
  }
}

function* identifies(withAnonymous) {
  const visitors = Math.floor(EVENTS / PER_VISITOR);
  for (let v = 0; v < visitors; v += 5)
    yield {
      event_id: `i-${v}`,
      type: 'identify',
      customer_id: `c-${v}`,
      ...(withAnonymous ? { anonymous_id: `anon-${v}` } : {}),
      occurred_at: '2024-06-01T00:00:00Z',
    };
}

try {
  const browse = join(dir, 'browse.ndjson');
  const ident = join(dir, 'identify.ndjson');
  const plain = join(dir, 'identify-plain.ndjson');
  await write(browse, browsing());
  await write(ident, identifies(true));
  await write(plain, identifies(false));
  const rows = [];
  const results = {};
  for (const [name, file] of [
    ['identify without anonymous ids (peer)', plain],
    ['identify with anonymous ids (stitching)', ident],
  ]) {
    const db = join(dir, `${name.includes('peer') ? 'peer' : 'stitch'}.duckdb`);
    const base = await retain(['--db', db, '--json', 'import', 'events', browse]);
    if (base.code !== 0) throw new Error(base.stderr);
    const r = await retain(['--db', db, '--json', 'import', 'events', file]);
    if (r.code !== 0) throw new Error(r.stderr);
    const report = JSON.parse(r.stdout);
    results[name] = { seconds: r.seconds, report };
    rows.push([name, fmt(r.seconds), String(report.inserted), String(report.identity?.stitched ?? 0)]);
  }
  console.log(
    `${EVENTS.toLocaleString('en-US')} anonymous events stored, then the identify events imported:`,
  );
  console.log(table(['import', 'seconds', 'inserted', 'events stitched'], rows));
  const [peer, stitch] = Object.values(results);
  const expected = Math.ceil(Math.floor(EVENTS / PER_VISITOR) / 5) * PER_VISITOR;
  if (stitch.report.identity.stitched !== expected) {
    console.error(`wrong result: ${stitch.report.identity.stitched} events stitched, expected ${expected}`);
    process.exitCode = 1;
  }
  console.log(
    `stitching / peer: ${fmt(stitch.seconds / peer.seconds)}× (whole process, noisy on a shared machine)`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
