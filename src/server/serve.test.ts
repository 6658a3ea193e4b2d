import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { JobQueue, JobRunner } from '../modules/jobs/service.js';
import { freshDatabase } from '../../test/support/storage.js';
import { createApp } from './app.js';
import { startServer } from './serve.js';

describe('retain serve lifecycle', () => {
  it('binds 127.0.0.1, finishes requests and jobs in flight on shutdown, then closes the database', async () => {
    const { db, dispose } = await freshDatabase('duckdb');
    const { app, deps } = await createApp({ db, logger: pino({ level: 'silent' }) });
    app.get('/slow', async (c) => {
      await new Promise((r) => setTimeout(r, 300));
      return c.json({ finished: true });
    });
    let jobDone = false;
    const runner = new JobRunner({
      db,
      queue: deps.jobs,
      pollMs: 20,
      handlers: {
        slow: async () => {
          await new Promise((r) => setTimeout(r, 300));
          jobDone = true;
        },
      },
    });
    const server = await startServer({ app, db, runner, host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    await new JobQueue(db).enqueue('slow', null, { idempotencyKey: 'slow-1' });
    await new Promise((r) => setTimeout(r, 100)); // the runner has claimed it
    const inFlight = fetch(`${base}/slow`).then((r) => r.json());
    await new Promise((r) => setTimeout(r, 50));
    const stopped = server.shutdown();
    expect(await inFlight).toEqual({ finished: true });
    await stopped;
    expect(jobDone).toBe(true);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    await expect(db.query('SELECT 1')).rejects.toThrow(); // closed
    await dispose().catch(() => undefined);
  });
});
