/**
 * The mining worker (see offload.ts): runs basket mining and model training on its own thread, so
 * the server's event loop stays free. Bundled as dist/bundle/basket-worker.cjs.
 */
import { parentPort } from 'node:worker_threads';
import { serveTasks } from '../../kit/workerPool.js';
import { runMiningTask, type MiningTask } from './mining.js';

serveTasks(parentPort!, (task: MiningTask) => runMiningTask(task));
