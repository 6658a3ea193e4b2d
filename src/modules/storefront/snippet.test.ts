import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../test/support/bundle.js';

/** The snippet's build (scripts/snippet.mjs): minified, ES2017, under 5 kB gzipped, or a failed build. */
describe('the retain.js build', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-snippet-build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const build = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'snippet.mjs'), ...args], { encoding: 'utf8' });

  it('prints its gzipped size and writes the minified file', () => {
    const r = build('--out-dir', join(dir, 'ok'));
    expect(r.status).toBe(0);
    const m =
      /^retain\.js: (\d+\.\d) kB gzipped \((\d+) bytes, limit 5000\); (\d+\.\d) kB minified, .* source → /.exec(
        r.stdout,
      );
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m?.[2])).toBeLessThan(5000);
    const code = readFileSync(join(dir, 'ok', 'retain.js'), 'utf8');
    expect(code.length).toBeLessThan(
      readFileSync(join(REPO_ROOT, 'src/modules/storefront/snippet/retain.js'), 'utf8').length / 2,
    );
  });

  it('fails above its limit, writing nothing', () => {
    const r = build('--out-dir', join(dir, 'small'), '--limit-bytes', '1000');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^retain\.js is \d+ bytes gzipped: over the 1000-byte limit \(1\.0 kB\)/);
    expect(existsSync(join(dir, 'small', 'retain.js'))).toBe(false);
  });
});
