import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests only). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Test helper: bundles a TypeScript entry (with its relative imports; packages stay external) into
 * an ES module under node_modules/.cache, so a child process or worker thread can run the sources
 * under test. Returns the bundle's path.
 */
export async function bundleForTest(entry: string, name: string): Promise<string> {
  const { build } = await import('rolldown');
  const dir = join(REPO_ROOT, 'node_modules', '.cache', 'retain-test-bundles');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${name}-${process.pid}.mjs`);
  await build({
    input: entry,
    platform: 'node',
    external: (id) => !id.startsWith('.') && !id.startsWith('/'),
    resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
    output: { file: out, format: 'esm', codeSplitting: false },
    logLevel: 'silent',
  });
  return out;
}
