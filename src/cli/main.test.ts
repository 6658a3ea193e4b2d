import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../shared/packageRoot.js';
import { buildProgram } from './main.js';

describe('retain --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(readFileSync(`${packageRoot()}/package.json`, 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      let out = '';
      const program = buildProgram().configureOutput({ writeOut: (s) => (out += s) });
      await expect(program.parseAsync(['node', 'retain', flag])).rejects.toMatchObject({
        code: 'commander.version',
        exitCode: 0,
      });
      expect(out.trim()).toBe(version);
    }
  });
});
