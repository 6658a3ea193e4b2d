#!/usr/bin/env -S node --max-semi-space-size=128
// Thin launcher: the compiled, bundled CLI lives in dist/bundle/ (built by `npm ci` through `prepare`),
// compiled through V8's code cache (dist/cli/codeCache.js) to save most of the start-up compiling.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { installCodeCache } from '../dist/cli/codeCache.js';

const bundleDir = fileURLToPath(new URL('../dist/bundle', import.meta.url));
installCodeCache(bundleDir);
createRequire(import.meta.url)('../dist/bundle/main.cjs').main(process.argv);
