#!/usr/bin/env node
// `npm run bench [-- name ...]`: runs the named benchmarks (default: all). Each prints its figures and
// its ratios to the named peer measured in the same run; none fails on time.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benches = {
  import: 'bench/import.mjs',
  clv: 'bench/clv/run.mjs',
  basket: 'bench/basket/run.mjs',
  http: 'bench/http/run.mjs',
  remote: 'bench/remote.mjs',
  reco: 'bench/reco.mjs',
  reports: 'bench/reports.mjs',
  ingest: 'bench/ingest.mjs',
  channels: 'bench/channels.mjs',
  templates: 'bench/templates.mjs',
  messaging: 'bench/messaging.mjs',
  campaigns: 'bench/campaigns.mjs',
  identity: 'bench/identity.mjs',
  segments: 'bench/segments.mjs',
  dashboard: 'bench/dashboard.mjs',
  loyalty: 'bench/loyalty.mjs',
  'loyalty-demo': 'bench/loyalty-demo.mjs',
  flows: 'bench/flows.mjs',
  subscriptions: 'bench/subscriptions.mjs',
};
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(benches);
if (!existsSync(join(root, 'dist/bundle/main.cjs'))) {
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}
let failed = false;
for (const name of wanted) {
  const script = benches[name];
  if (!script) {
    console.error(`unknown benchmark '${name}'; expected one of ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  if (!existsSync(join(root, script))) {
    console.log(`\n== ${name}: ${script} not present, skipped`);
    continue;
  }
  console.log(`\n== ${name} (${script})`);
  const r = spawnSync(process.execPath, [join(root, script)], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) failed = true; // a benchmark exits non-zero only on wrong results, never on time
}
process.exit(failed ? 1 : 0);
