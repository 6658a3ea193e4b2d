// Builds the storefront snippet: src/modules/storefront/snippet/retain.js minified (oxc, through
// rolldown) into dist/storefront/retain.js, checked to parse as ES2017 and to stay under 5 kB gzipped
// (5,000 bytes at gzip -9); prints `retain.js: 2.5 kB gzipped (…)` and exits 1 when a check fails.
// `node scripts/snippet.mjs --out-dir <dir>` builds elsewhere (the browser test builds a fresh copy);
// `--limit-bytes <n>` checks against another limit (the test of the check itself).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Linter } from 'eslint';
import { minifySync } from 'rolldown/utils';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(root, 'src/modules/storefront/snippet/retain.js');

const args = process.argv.slice(2);
const option = (name) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : undefined);
const outDir = resolve(option('--out-dir') ?? join(root, 'dist/storefront'));
const LIMIT_BYTES = Number(option('--limit-bytes') ?? 5000);

const source = readFileSync(SOURCE, 'utf8');
const result = minifySync('retain.js', source, {
  compress: { target: 'es2017' },
  mangle: { toplevel: true },
  codegen: { removeWhitespace: true },
});
const failures = [];
if (result.errors.length > 0) failures.push(...result.errors.map((e) => `minify: ${e.message}`));
const code = result.code.trim() + '\n';

// ES2017 only: the syntax newer browsers take for granted (?., ??, class fields, …) would break older ones.
const parsed = new Linter().verify(code, {
  languageOptions: { ecmaVersion: 2017, sourceType: 'script' },
});
for (const m of parsed.filter((p) => p.fatal))
  failures.push(`not ES2017: ${m.message} at line ${m.line}, column ${m.column}`);

const gzipped = gzipSync(code, { level: 9 }).length;
const kB = (n) => `${(n / 1000).toFixed(1)} kB`;
if (gzipped > LIMIT_BYTES)
  failures.push(
    `retain.js is ${gzipped} bytes gzipped: over the ${LIMIT_BYTES}-byte limit (${kB(LIMIT_BYTES)})`,
  );

mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'retain.js');
if (failures.length === 0) writeFileSync(file, code);
console.log(
  `retain.js: ${kB(gzipped)} gzipped (${gzipped} bytes, limit ${LIMIT_BYTES}); ` +
    `${kB(Buffer.byteLength(code))} minified, ${kB(Buffer.byteLength(source))} source` +
    (failures.length ? '' : ` → ${file}`),
);
if (failures.length > 0) {
  for (const f of failures) console.error(f);
  process.exit(1);
}
