import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web-dist/**', 'coverage/**', '**/*.duckdb*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      // Node's globals (the TypeScript files are checked by tsc; these matter for the plain .mjs benchmarks).
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'URLSearchParams',
          'performance',
          'Buffer',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'setImmediate',
          'TextDecoder',
          'TextEncoder',
          'fetch',
          'AbortController',
          'structuredClone',
          'queueMicrotask',
          'Response',
          'Request',
          'Headers',
        ].map((g) => [g, 'readonly']),
      ),
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The CommonJS launcher (bin/retain.js; bin/package.json makes it CommonJS).
    files: ['**/*.cjs', 'bin/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The dashboard runs in the browser.
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'fetch', 'HTMLDivElement'].map(
          (g) => [g, 'readonly'],
        ),
      ),
    },
  },
);
