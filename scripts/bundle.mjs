// Bundles the compiled CLI (dist/cli/main.js) into dist/bundle/: one entry file plus chunks for the
// commands' lazy imports. Loading ~150 small ES modules (zod alone is ~100) cost about 0.1 s of every
// command's start; the bundle loads a handful. Native and worker-based packages stay external.
// CommonJS output, so bin/retain.js can compile the files through V8's code cache (src/cli/codeCache.ts):
// Node 20 has no code cache for ES modules.
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const outDir = 'dist/bundle';
rmSync(outDir, { recursive: true, force: true });
await build({
  input: {
    main: 'dist/cli/main.js',
    'import-worker': 'dist/modules/imports/worker.js',
    'basket-worker': 'dist/modules/basket/worker.js',
    'smtp-worker': 'dist/modules/messaging/channels/smtpWorker.js',
    // Loaded by bin/retain.js before the hook it installs (so itself compiled without the cache).
    'code-cache': 'dist/cli/codeCache.js',
  },
  platform: 'node',
  external: [/^node:/, /^@duckdb\//, /^pg($|\/)/, /^pg-copy-streams/, /^pino($|\/)/],
  logLevel: 'warn',
  output: {
    dir: outDir,
    format: 'cjs',
    // External packages imported lazily (pino, node:crypto) become require() in a promise: bin/retain.js
    // compiles the bundle through vm.Script (the code cache), where a real import() has no loader and
    // throws "A dynamic import callback was not specified".
    dynamicImportInCjs: false,
    entryFileNames: '[name].cjs',
    chunkFileNames: 'chunk-[hash].cjs',
  },
});
