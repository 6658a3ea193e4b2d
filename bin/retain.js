#!/usr/bin/env -S node --max-semi-space-size=128
// Thin launcher: the compiled, bundled CLI lives in dist/bundle/ (built by `npm ci` through `prepare`).
import('../dist/bundle/main.js').then((m) => m.main(process.argv));
