import { serve } from '@hono/node-server';
import type { JobRunner } from '../modules/jobs/service.js';
import type { Database } from '../storage/port.js';
import type { RetainApp } from '../kit/http/context.js';

export interface RunningServer {
  port: number;
  /**
   * Graceful stop: stop accepting connections, let requests in flight finish (idle keep-alive
   * connections are closed at once; busy ones are cut after `graceMs`), stop the job runner after
   * its jobs in flight, stop the domain-event dispatcher after its batch in flight, let CLI commands
   * using the store through its socket finish (cut after `graceMs`), then close the database.
   */
  shutdown(graceMs?: number): Promise<void>;
}

/** Listens on `host:port` (port 0 picks a free one) and returns once listening. */
export async function startServer(opts: {
  app: RetainApp;
  db: Database;
  runner?: JobRunner;
  /** The domain-event dispatcher (modules/outbox): started once listening, stopped before the db closes. */
  dispatcher?: { start(): void; stop(): Promise<void> };
  /** The DuckDB store's socket for CLI commands (storage/remote): closed before the database. */
  socket?: { close(graceMs?: number): Promise<void> };
  host: string;
  port: number;
}): Promise<RunningServer> {
  let server: ReturnType<typeof serve> | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    server = serve({ fetch: opts.app.fetch, port: opts.port, hostname: opts.host }, (info) =>
      resolve(info.port),
    );
    server.once('error', reject);
  });
  const http = server as unknown as {
    close(cb: (err?: Error) => void): void;
    closeIdleConnections?: () => void;
    closeAllConnections?: () => void;
  };
  opts.runner?.start();
  opts.dispatcher?.start();
  let stopping: Promise<void> | undefined;
  return {
    port,
    shutdown(graceMs = 10_000) {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections?.();
        const force = setTimeout(() => http.closeAllConnections?.(), graceMs);
        force.unref();
        await closed;
        clearTimeout(force);
        await opts.runner?.stop();
        await opts.dispatcher?.stop();
        await opts.socket?.close(graceMs);
        await opts.db.close();
      })();
      return stopping;
    },
  };
}
