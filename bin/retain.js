#!/usr/bin/env -S node --max-semi-space-size=64
// Thin launcher: the compiled, bundled CLI lives in dist/bundle/ (built by `npm ci` through `prepare`),
// compiled through V8's code cache (dist/bundle/code-cache.cjs) to save most of the start-up compiling.
// CommonJS (bin/package.json says so), like the bundle: an ES module here would start Node's ESM
// loader, ~10 ms of every command.
'use strict';
const { join } = require('node:path');

const bundleDir = join(__dirname, '..', 'dist', 'bundle');
require(join(bundleDir, 'code-cache.cjs')).installCodeCache(bundleDir);
require(join(bundleDir, 'main.cjs')).main(process.argv);
