import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../kit/clock.js';
import type { AppEnv, RetainApp, ServerConfig, ServerDeps } from '../kit/http/context.js';
import { errorJson, onError, validationError } from '../kit/http/errors.js';
import type { Jobs } from '../kit/jobs.js';
import { JobQueue } from '../modules/jobs/service.js';
import { AppError } from '../shared/errors.js';
import type { Database } from '../storage/port.js';
import { createAuth } from './auth.js';
import { DOCS_HTML } from './docsPage.js';
import { registerRoutes } from './routes.js';
import { registerWebApp } from './webApp.js';

export const DEFAULT_CONFIG: ServerConfig = {
  maxBodyBytes: 2 * 1024 * 1024,
  maxUploadBytes: 512 * 1024 * 1024,
  uploadDir: join(tmpdir(), 'retain-uploads'),
  rateLimit: { perSecond: 500, burst: 1000 },
  authCacheMs: 5000,
};

export interface CreateAppOptions {
  db: Database;
  logger: Logger;
  clock?: Clock;
  config?: Partial<ServerConfig>;
  jobs?: Jobs;
  /** The built dashboard (default: the package's dist/web). */
  webRoot?: string;
}

/** The HTTP API: request ids, structured logs, one error shape, auth per route, OpenAPI at /openapi.json. */
export async function createApp(opts: CreateAppOptions): Promise<{ app: RetainApp; deps: ServerDeps }> {
  const clock = opts.clock ?? systemClock;
  const deps: ServerDeps = {
    db: opts.db,
    log: opts.logger,
    clock,
    config: { ...DEFAULT_CONFIG, ...opts.config },
    jobs: opts.jobs ?? new JobQueue(opts.db, clock),
  };
  const app: RetainApp = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success)
        throw validationError(result.error, result.target === 'json' ? 'body' : result.target);
    },
  });

  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    const log = deps.log.child({ reqId: requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    const started = performance.now();
    await next();
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Number((performance.now() - started).toFixed(1)),
        principal: c.get('principal')?.id,
      },
      'request',
    );
  });

  // Body limit: uploads stream to disk with their own (larger) limit.
  const limit = bodyLimit({
    maxSize: deps.config.maxBodyBytes,
    onError: (c) =>
      errorJson(
        c as never,
        new AppError('payload_too_large', `the body exceeds ${deps.config.maxBodyBytes} bytes`, {
          details: { limitBytes: deps.config.maxBodyBytes },
        }),
      ),
  });
  app.use('*', async (c, next) => {
    if (c.req.method === 'POST' && c.req.path.startsWith('/v1/imports/')) return next();
    return limit(c, next);
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    try {
      await deps.db.query('SELECT 1 AS ok');
      return c.json({ status: 'ready', database: deps.db.kind });
    } catch (err) {
      c.get('log').warn({ err }, 'database not ready');
      return c.json({ status: 'unavailable', database: deps.db.kind }, 503);
    }
  });

  const auth = createAuth(deps);
  await registerRoutes(app, deps, auth);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'API key from `retain keys create --role …`',
  });
  // Generated once, on first request (building it walks every schema: ~100 ms).
  let doc: unknown;
  app.get('/openapi.json', (c) => {
    doc ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'Retain API',
        version: '1',
        description:
          'Retention and CLV platform. Errors are `{"error":{"code","message","details"}}`; lists are cursor-paginated (`limit`, `cursor` → `nextCursor`).',
      },
    });
    return c.json(doc as Record<string, unknown>);
  });
  app.get('/docs', (c) => c.html(DOCS_HTML));
  registerWebApp(app, opts.webRoot);

  app.notFound((c) => errorJson(c, new AppError('not_found', `no route ${c.req.method} ${c.req.path}`)));
  app.onError(onError);
  return { app, deps };
}
