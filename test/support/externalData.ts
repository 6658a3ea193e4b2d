/**
 * Test suites that read data kept beside the repository, in <repo>/../shared/data (CDNOW, UCI Online
 * Retail). On a developer machine without it such a suite is skipped, with a warning naming the
 * missing file; on CI (`CI=true`) missing data fails the test file instead, so a golden suite can
 * never pass there by not running.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

/** The shared data folder, <repo>/../shared/data. */
export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data');

/** A path in the shared data folder, e.g. `sharedData('cdnow/CDNOW_master.txt')`. */
export function sharedData(relative: string): string {
  return resolve(SHARED_DATA, relative);
}

/** A path in the data shipped with the repository (<repo>/data), e.g. `shippedData('cdnow/CDNOW_sample.txt')`. */
export function shippedData(relative: string): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../data', relative);
}

/**
 * Whether every file exists, for `it.runIf(…)` and `describe.runIf(…).each(…)` (suites that read the
 * files only inside hooks and tests). A missing file throws on CI and is reported with console.warn
 * elsewhere.
 */
export function haveExternalData(...files: string[]): boolean {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length === 0) return true;
  const list = missing.join(', ');
  if (process.env.CI === 'true') throw new Error(`external test data is missing (required on CI): ${list}`);
  console.warn(`skipping a suite: external test data is missing: ${list}`);
  return false;
}

/**
 * `describe` for a suite that reads the files in its body (vitest runs the body of a skipped suite to
 * collect its tests): when they are missing, the body is not run and the suite shows as skipped.
 */
export function describeWithData(...files: string[]): (name: string, body: () => void) => void {
  if (haveExternalData(...files)) return (name, body) => describe(name, body);
  return (name) => describe.skip(name, () => it.skip(`needs ${files.join(', ')}`, () => {}));
}
