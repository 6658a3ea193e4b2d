import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForTest, REPO_ROOT } from '../../test/support/bundle.js';
import { codeCacheDir, fnv1a } from './codeCache.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-code-cache-'));
const bundleDir = join(dir, 'bundle');
let hook = '';

/** Runs `node` with the hook installed for bundleDir, requiring `file`; returns its stdout. */
function run(file: string): string {
  const script = [
    `const { installCodeCache } = await import(${JSON.stringify(hook)});`,
    `installCodeCache(${JSON.stringify(bundleDir)});`,
    `const { createRequire } = await import('node:module');`,
    `const m = createRequire(${JSON.stringify(join(dir, 'x.js'))})(${JSON.stringify(file)});`,
    `console.log(m.answer(20));`,
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout.trim();
}

/** Two small CommonJS modules (one requiring the other) in `d`. */
function writeModules(d: string): void {
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, 'mod.cjs'),
    `const { double } = require('./helper.cjs');\nexports.answer = (n) => double(n) + 2;\n`,
  );
  writeFileSync(join(d, 'helper.cjs'), `exports.double = (n) => n * 2;\n`);
}

beforeAll(async () => {
  hook = await bundleForTest(join(REPO_ROOT, 'src/cli/codeCache.ts'), 'code-cache');
  writeModules(bundleDir);
  writeModules(join(dir, 'other'));
}, 30_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('V8 code cache for the bundled CLI', () => {
  it('keys the cache by Node version and flags', () => {
    expect(fnv1a('a')).toBe(fnv1a('a'));
    expect(fnv1a('a')).not.toBe(fnv1a('b'));
    expect(fnv1a('')).toMatch(/^[0-9a-f]{8}$/);
    expect(codeCacheDir('/x/bundle')).toMatch(/^\/x\/bundle\/\.v8-cache\/[0-9a-f]{8}$/);
  });

  it('stores data for the bundle files on the first run and reuses it, results unchanged', () => {
    expect(run(join(bundleDir, 'mod.cjs'))).toBe('42');
    const caches = readdirSync(join(bundleDir, '.v8-cache'));
    expect(caches).toHaveLength(1);
    const files = readdirSync(join(bundleDir, '.v8-cache', caches[0]!)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^helper\.cjs\.\d+\.v8$/);
    expect(files[1]).toMatch(/^mod\.cjs\.\d+\.v8$/);
    expect(run(join(bundleDir, 'mod.cjs'))).toBe('42');
  });

  it('never runs stale code for a file edited to the same length', () => {
    expect(run(join(bundleDir, 'mod.cjs'))).toBe('42');
    const file = join(bundleDir, 'helper.cjs');
    writeFileSync(file, `exports.double = (n) => n * 3;\n`); // same length as (n) => n * 2
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(run(join(bundleDir, 'mod.cjs'))).toBe('62');
    writeFileSync(file, `exports.double = (n) => n * 2;\n`);
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
  });

  it('survives a corrupt cache file (rewritten) and leaves other directories alone', () => {
    const cache = join(bundleDir, '.v8-cache', readdirSync(join(bundleDir, '.v8-cache'))[0]!);
    for (const f of readdirSync(cache)) writeFileSync(join(cache, f), 'not V8 data');
    expect(run(join(bundleDir, 'mod.cjs'))).toBe('42');
    expect(run(join(dir, 'other', 'mod.cjs'))).toBe('42');
    expect(existsSync(join(dir, 'other', '.v8-cache'))).toBe(false);
  });
});
