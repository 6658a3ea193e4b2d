/**
 * V8 code cache for the bundled CLI (dist/bundle/*.cjs). Node 20 compiles every module's source on
 * every start; for the ~0.5 MB a command loads that was ~25 ms of compiling plus the lazy compiles of
 * the functions it runs. This hook compiles the bundle's files with `vm.Script` from cached data, and
 * on exit stores the data (including the functions compiled during the run) for files that had none
 * or whose data V8 rejected.
 *
 * The cache sits beside the bundle in `.v8-cache/<key>/`: the key covers the Node version and the
 * flags (V8 rejects data made under other flags), and `npm run build` starts it afresh. Any failure to
 * read or write it is ignored: the cache only ever saves time.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

interface CompilingModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

/** FNV-1a of a string, as 8 hex digits (a cache directory name; no crypto load at start-up). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Where this process's cached data for files in `bundleDir` lives. */
export function codeCacheDir(bundleDir: string): string {
  const key = [process.version, process.arch, ...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\0');
  return join(bundleDir, '.v8-cache', fnv1a(key));
}

/** Routes the compilation of CommonJS files under `bundleDir` through the code cache. */
export function installCodeCache(bundleDir: string): void {
  const cacheDir = codeCacheDir(bundleDir);
  const proto = (Module as unknown as { prototype: CompilingModule }).prototype;
  const compile = proto._compile;
  const toWrite: { script: Script; file: string }[] = [];
  proto._compile = function (this: CompilingModule, content: string, filename: string): unknown {
    if (dirname(filename) !== bundleDir) return compile.call(this, content, filename);
    // V8 checks only the source's length: the file's mtime in the name keeps an edited file (same
    // length, new content) from running stale bytecode.
    let file: string;
    try {
      file = join(cacheDir, `${basename(filename)}.${Math.trunc(statSync(filename).mtimeMs)}.v8`);
    } catch {
      return compile.call(this, content, filename);
    }
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(file);
    } catch {
      cachedData = undefined;
    }
    const script = new Script(Module.wrap(content), { filename, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) toWrite.push({ script, file });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (
      exports: unknown,
      require: NodeJS.Require,
      module: CompilingModule,
      filename: string,
      dirname: string,
    ) => unknown;
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, bundleDir);
  };
  process.once('exit', () => {
    if (toWrite.length === 0) return;
    try {
      mkdirSync(cacheDir, { recursive: true });
      for (const { script, file } of toWrite) {
        const temp = `${file}.${process.pid}.tmp`;
        writeFileSync(temp, script.createCachedData());
        renameSync(temp, file); // atomic: a concurrent start reads the old file or the new one
      }
    } catch {
      // A read-only install or a full disk: run without the cache.
    }
  });
}
