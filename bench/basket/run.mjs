// Basket benchmark: `retain basket itemsets --format fimi` vs the `node-fpgrowth` npm package, both
// whole-process (node start, read + parse, mine, print) in the same run on the same files, with
// identical itemset counts asserted and peak RSS reported. Never fails on time; exits 1 only when
// the two miners disagree on a count.
//
//   npm run build && node bench/basket/run.mjs            # full run (a few minutes)
//   BENCH_QUICK=1 node bench/basket/run.mjs               # one support per data set
//   BENCH_PEER_TIMEOUT_S=600 node bench/basket/run.mjs    # give the peer longer (default 180 s)
//   BENCH_REPEAT=5 node bench/basket/run.mjs               # best of 5 alternating runs (default 3)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importTestSupport } from '../lib.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const data = resolve(root, '..', 'shared', 'data');
const quick = Boolean(process.env.BENCH_QUICK);
// Each side runs this many times, alternating, and the fastest run counts (as hyperfine's min): one
// run of either process is easily 30 % off on a shared 2-core machine.
const repeat = Number(process.env.BENCH_REPEAT ?? (quick ? 1 : 3));
const peerTimeoutS = Number(process.env.BENCH_PEER_TIMEOUT_S ?? 180);
const hasTime = existsSync('/usr/bin/time');

if (!existsSync(join(root, 'dist', 'bundle', 'main.cjs'))) {
  console.error('bench/basket: dist/ is missing; run `npm run build` first');
  process.exit(2);
}

/** Online Retail invoices by SKU (non-product lines excluded) as a FIMI file. */
async function onlineRetailFimi() {
  const { loadOnlineRetail } = await importTestSupport('onlineRetailBaskets');
  const { basketsToTransactions } = await import(join(root, 'dist/analytics/basket/transactions.js'));
  const { db } = basketsToTransactions(loadOnlineRetail().baskets);
  const lines = [];
  for (let t = 0; t < db.transactionCount; t++) {
    lines.push(Array.from(db.items.subarray(db.offsets[t], db.offsets[t + 1])).join(' ') + ' ');
  }
  const dir = join(tmpdir(), 'retain-bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'online-retail-invoices.dat');
  writeFileSync(file, lines.join('\n') + '\n');
  return { file, baskets: db.transactionCount, items: db.keys.length };
}

/** Runs a command, returning its parsed JSON stdout, wall seconds and peak RSS (MiB). */
function measure(args, timeoutS) {
  const cmd = hasTime ? '/usr/bin/time' : process.execPath;
  const argv = hasTime ? ['-f', '__TIME__ %e %M %U %S', process.execPath, ...args] : args;
  const started = performance.now();
  const run = spawnSync(cmd, argv, {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    maxBuffer: 1 << 26,
  });
  const wall = (performance.now() - started) / 1000;
  if (run.error?.code === 'ETIMEDOUT' || run.signal) return { failed: `timed out after ${timeoutS}s` };
  if (run.status !== 0) {
    const err = (run.stderr || '')
      .split('\n')
      .filter((l) => l && !l.startsWith('__TIME__'))
      .slice(-2)
      .join(' | ');
    return { failed: `exit ${run.status}: ${err.slice(0, 200)}` };
  }
  const timeLine = (run.stderr || '').split('\n').find((l) => l.startsWith('__TIME__'));
  const [, seconds, kb, user, sys] = timeLine ? timeLine.split(' ') : [];
  return {
    result: JSON.parse(run.stdout),
    seconds: timeLine ? Number(seconds) : wall,
    cpuSeconds: timeLine ? Number(user) + Number(sys) : null,
    rssMiB: timeLine ? Math.round(Number(kb) / 1024) : null,
  };
}

/** The faster of two measurements (a failed one loses; the first failure is kept if both fail). */
function faster(a, b) {
  if (!a) return b;
  if (a.failed) return b.failed ? a : b;
  if (b.failed) return a;
  return b.seconds < a.seconds ? b : a;
}

const retail = join(data, 'basket', 'retail.dat.gz');
const quest = join(data, 'basket', 'T10I4D100K.dat.gz');
const online = await onlineRetailFimi();
const datasets = [
  {
    name: 'retail (FIMI, Brijs et al.)',
    file: retail,
    supports: quick ? [0.001] : [0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001],
    peerMin: 0.0005,
  },
  {
    name: 'T10I4D100K (IBM Quest)',
    file: quest,
    supports: quick ? [0.002] : [0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001],
    peerMin: 0.001,
  },
  {
    name: `Online Retail invoices by SKU (${online.baskets} baskets, ${online.items} SKUs)`,
    file: online.file,
    // Below 0.1 % this data set has a dense core (≥ 10 near-identical large invoices): 0.05 % already
    // means ~1.5e20 frequent itemsets (counted combinatorially, approximate beyond 2^53) and lower
    // supports do not finish in useful time for any all-itemsets miner; memory stays ~120 MiB.
    supports: quick ? [0.01] : [0.05, 0.02, 0.01, 0.005, 0.002, 0.001],
    peerMin: 0.005,
  },
];

const rows = [];
let mismatches = 0;
console.log(
  `basket bench: retain basket itemsets vs node-fpgrowth, whole process, best of ${repeat} alternating runs each, peak RSS via ${hasTime ? '/usr/bin/time' : '(unavailable)'}`,
);
for (const ds of datasets) {
  console.log(`\n## ${ds.name}\n`);
  console.log(
    'min support | itemsets | retain s (cpu) | retain MiB | peer s (cpu) | peer MiB | speed-up wall (cpu) | counts',
  );
  console.log(
    '----------- | -------- | -------------- | ---------- | ------------ | -------- | ------------------- | ------',
  );
  let peerGaveUp = null;
  for (const s of ds.supports) {
    const oursArgs = [
      'bin/retain.js',
      'basket',
      'itemsets',
      '--format',
      'fimi',
      '--input',
      ds.file,
      '--min-support',
      String(s),
      '--json',
    ];
    let peerNote = '';
    if (peerGaveUp) peerNote = `peer skipped (${peerGaveUp})`;
    else if (s < ds.peerMin) peerNote = `peer skipped (below ${ds.peerMin}: too slow)`;
    let ours = null;
    let peer = null;
    for (let r = 0; r < repeat; r++) {
      ours = faster(ours, measure(oursArgs, 3600));
      if (peerNote) continue;
      const p = measure(['bench/basket/peer-fpgrowth.mjs', ds.file, String(s)], peerTimeoutS);
      if (p.failed && !peer) {
        peerNote = `peer ${p.failed}`;
        peerGaveUp = `${p.failed} at ${s}`;
        continue;
      }
      peer = faster(peer, p);
    }
    if (ours.failed) {
      console.log(`${s} | retain FAILED: ${ours.failed}`);
      rows.push({ dataset: ds.name, minSupport: s, retain: ours });
      continue;
    }
    const same = peer
      ? peer.result.itemsets === ours.result.itemsets &&
        JSON.stringify(peer.result.bySize) === JSON.stringify(ours.result.bySize)
      : null;
    if (same === false) mismatches++;
    const ratio = peer ? peer.seconds / ours.seconds : null;
    const cpuRatio = peer && peer.cpuSeconds && ours.cpuSeconds ? peer.cpuSeconds / ours.cpuSeconds : null;
    const secs = (m) =>
      `${m.seconds.toFixed(2)}${m.cpuSeconds !== null ? ` (${m.cpuSeconds.toFixed(2)})` : ''}`;
    console.log(
      [
        `${(s * 100).toFixed(2)} %`,
        ours.result.itemsets,
        secs(ours),
        ours.rssMiB ?? '-',
        peer ? secs(peer) : '-',
        peer ? (peer.rssMiB ?? '-') : '-',
        ratio ? `${ratio.toFixed(1)}×${cpuRatio ? ` (${cpuRatio.toFixed(1)}×)` : ''}` : '-',
        same === null ? peerNote : same ? 'identical' : `MISMATCH peer ${peer.result.itemsets}`,
      ].join(' | '),
    );
    rows.push({
      dataset: ds.name,
      minSupport: s,
      itemsets: ours.result.itemsets,
      bySize: ours.result.bySize,
      retain: { seconds: ours.seconds, cpuSeconds: ours.cpuSeconds, rssMiB: ours.rssMiB },
      peer: peer
        ? {
            seconds: peer.seconds,
            cpuSeconds: peer.cpuSeconds,
            rssMiB: peer.rssMiB,
            itemsets: peer.result.itemsets,
          }
        : peerNote,
      speedup: ratio,
      cpuSpeedup: cpuRatio,
      identical: same,
    });
  }
}
const out = join(tmpdir(), 'retain-bench', 'basket-results.json');
writeFileSync(out, JSON.stringify(rows, null, 2));
const ratios = rows.filter((r) => r.speedup).map((r) => r.speedup);
if (ratios.length > 0) {
  console.log(
    `\nspeed-up over node-fpgrowth: min ${Math.min(...ratios).toFixed(1)}×, max ${Math.max(...ratios).toFixed(1)}× over ${ratios.length} runs with identical counts`,
  );
}
console.log(`results: ${out}`);
if (mismatches > 0) {
  console.error(`${mismatches} count mismatch(es) between retain and node-fpgrowth`);
  process.exitCode = 1;
}
