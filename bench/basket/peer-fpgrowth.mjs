// Peer for the basket benchmark: the `node-fpgrowth` npm package (the existing TypeScript FP-growth)
// run whole-process on a FIMI file, so that its time is comparable to `retain basket itemsets`.
// Usage: node bench/basket/peer-fpgrowth.mjs FILE MIN_SUPPORT → one JSON line on stdout.
// Reading mirrors Retain's: blank lines skipped, an id repeated within a basket counted once
// (node-fpgrowth would otherwise count it twice).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { FPGrowth } = require('node-fpgrowth');

const [file, minSupportText] = process.argv.slice(2);
const started = performance.now();
let bytes = readFileSync(file);
if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
const transactions = [];
for (const line of bytes.toString('latin1').split('\n')) {
  const tokens = line.trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 0) continue;
  transactions.push([...new Set(tokens.map(Number))]);
}
const fpgrowth = new FPGrowth(Number(minSupportText));
const itemsets = await fpgrowth.exec(transactions);
const bySize = {};
for (const itemset of itemsets) bySize[itemset.items.length] = (bySize[itemset.items.length] ?? 0) + 1;
process.stdout.write(
  JSON.stringify({
    transactions: transactions.length,
    itemsets: itemsets.length,
    bySize,
    seconds: Math.round(performance.now() - started) / 1000,
  }) + '\n',
);
