import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeWithData, haveExternalData, sharedData } from './externalData.js';

const here = fileURLToPath(import.meta.url);

describe('haveExternalData', () => {
  const missing = join(sharedData('.'), 'no-such-folder', 'no-such-file.csv');

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('is true, silently, when every file exists', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(haveExternalData(here)).toBe(true);
    expect(warn).not.toHaveBeenCalled();
  });

  it('outside CI, skips with a warning naming the missing file', () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(haveExternalData(here, missing)).toBe(false);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(missing));
  });

  it('on CI, fails instead of skipping', () => {
    vi.stubEnv('CI', 'true');
    expect(() => haveExternalData(missing)).toThrow(missing);
  });
});

describe('describeWithData', () => {
  const missing = sharedData('no-such-folder/no-such-file.csv');
  let ran = false;
  vi.stubEnv('CI', '');
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  describeWithData(missing)('a suite reading a missing file', () => {
    ran = true;
  });
  vi.unstubAllEnvs();
  vi.restoreAllMocks();

  it('does not run the body of a suite whose data is missing', () => {
    expect(ran).toBe(false);
  });
});
