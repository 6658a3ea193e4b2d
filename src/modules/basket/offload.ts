import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Product } from '../../analytics/basket/types.js';
import { WorkerPool } from '../../kit/workerPool.js';
import { invalid } from '../../shared/errors.js';
import { packageRoot } from '../../shared/packageRoot.js';
import type { PackedBasketRow } from '../orders/repository.js';
import { runMiningTask, type MiningOps, type MiningTask } from './mining.js';
import { orderRowsOf } from './orderRows.js';

/**
 * Where basket mining runs: in a pool of worker threads (worker.ts) when the bundled worker exists —
 * the installed CLI, `retain serve`, `retain worker` — so a mining request never blocks the event
 * loop; on the calling thread otherwise (the sources under the test runner, or
 * `RETAIN_BASKET_WORKERS=0`). The main thread only loads the orders (the database works on its own
 * threads) and hands them over: numeric columns transferred, packed line texts cloned.
 */

const MAX_WORKERS = 2;

let settings: { workerFile?: string | null; workers?: number } = {};
let pool: WorkerPool | null | undefined;

/** The bundled worker, when running compiled code (under the test runner the sources are TypeScript). */
function defaultWorkerFile(): string | null {
  if (!/\.c?js$/.test(import.meta.url)) return null;
  const file = join(packageRoot(), 'dist', 'bundle', 'basket-worker.cjs');
  return existsSync(file) ? file : null;
}

/** Workers to use: RETAIN_BASKET_WORKERS (0 = mine on the calling thread), else one per spare core, at most 2. */
function workerCount(): number {
  if (settings.workers !== undefined) return settings.workers;
  const env = process.env.RETAIN_BASKET_WORKERS;
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (!(Number.isInteger(n) && n >= 0 && n <= 16))
      throw invalid(`basket workers must be a whole number from 0 to 16, got '${env}'`, {
        field: 'RETAIN_BASKET_WORKERS',
      });
    return n;
  }
  return Math.min(MAX_WORKERS, Math.max(1, availableParallelism() - 1));
}

function miningPool(): WorkerPool | null {
  if (pool !== undefined) return pool;
  const file = settings.workerFile !== undefined ? settings.workerFile : defaultWorkerFile();
  const size = workerCount();
  pool = file && size > 0 ? new WorkerPool({ file, size, name: 'basket worker' }) : null;
  return pool;
}

/**
 * Chooses the worker script and pool size (tests point it at a bundle of the sources; `workerFile:
 * null` mines on the calling thread). Closes the pool in use.
 */
export async function configureMining(o: { workerFile?: string | null; workers?: number }): Promise<void> {
  const old = pool;
  pool = undefined;
  settings = o;
  await old?.close();
}

/** Whether mining runs on worker threads in this process. */
export function miningOffThread(): boolean {
  return miningPool() !== null;
}

/** Mining tasks running on worker threads now. */
export function miningInFlight(): number {
  return pool ? pool.busy : 0;
}

/** Runs one mining operation on the loaded orders: on a worker thread when there is a pool. */
export async function mine<K extends keyof MiningOps>(
  op: K,
  input: MiningOps[K][0],
  rows: readonly PackedBasketRow[],
  products: Product[],
): Promise<MiningOps[K][1]> {
  const { rows: orders, transfer } = orderRowsOf(rows);
  const task = { op, input, orders, products } as MiningTask;
  const p = miningPool();
  if (!p) return runMiningTask(task).value as MiningOps[K][1];
  return p.run<MiningOps[K][1]>(task, transfer);
}
