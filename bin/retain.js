#!/usr/bin/env -S node --max-semi-space-size=128
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
import('../dist/cli/main.js').then((m) => m.main(process.argv));
