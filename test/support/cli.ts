import { vi } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';

/**
 * Test helper: runs `retain --db <file> --json <args…>` in this process and returns the one JSON
 * document it printed (stdout captured; with `quiet`, stderr's progress and logs muted too).
 */
export function jsonCli(db: string, { quiet = false }: { quiet?: boolean } = {}) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return async (...args: string[]): Promise<any> => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const err = quiet ? vi.spyOn(process.stderr, 'write').mockImplementation(() => true) : null;
    try {
      await buildProgram().parseAsync(['node', 'retain', '--db', db, '--json', ...args]);
    } finally {
      spy.mockRestore();
      err?.mockRestore();
    }
    return JSON.parse(out);
  };
}
