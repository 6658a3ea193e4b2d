/**
 * Test suites that read data kept beside the repository, in <repo>/../shared/data (CDNOW, UCI Online
 * Retail). On a developer machine without it such a suite is skipped, with a warning naming the
 * missing file; on CI (`CI=true`) missing data fails the test file instead, so a golden suite can
 * never pass there by not running.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared data folder, <repo>/../shared/data. */
export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data');

/** A path in the shared data folder, e.g. `sharedData('cdnow/CDNOW_sample.txt')`. */
export function sharedData(relative: string): string {
  return resolve(SHARED_DATA, relative);
}

/**
 * Whether every file exists, for `describe.runIf(haveExternalData(file))(…)`. A missing file throws
 * on CI and is reported with console.warn elsewhere.
 */
export function haveExternalData(...files: string[]): boolean {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length === 0) return true;
  const list = missing.join(', ');
  if (process.env.CI === 'true') throw new Error(`external test data is missing (required on CI): ${list}`);
  console.warn(`skipping a suite: external test data is missing: ${list}`);
  return false;
}
