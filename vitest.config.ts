import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Storage tests open DuckDB files and Postgres schemas; keep parallelism modest on 2 cores.
    maxWorkers: 2,
  },
});
