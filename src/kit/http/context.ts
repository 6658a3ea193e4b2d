import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ModuleContext } from '../context.js';
import type { Role } from './roles.js';

/** Tunables of the HTTP service (defaults in server/app.ts; `retain serve` reads env overrides). */
export interface ServerConfig {
  /** Largest JSON body accepted, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Largest import upload, in bytes. */
  maxUploadBytes: number;
  /** Where uploaded import files wait for their job. */
  uploadDir: string;
  /** Requests per second per key (token refill rate) and bucket size. */
  rateLimit: { perSecond: number; burst: number };
  /** How long a verified key is trusted before it is looked up again (revocation delay across processes). */
  authCacheMs: number;
  /** Webhook secrets; a source without a secret answers 404. */
  shopifySecret?: string | undefined;
  woocommerceSecret?: string | undefined;
}

/** What every route can use: the module context plus the server's configuration. */
export interface ServerDeps extends ModuleContext {
  config: ServerConfig;
}

/** Who is calling: an API key, or a web-app user through their session cookie. */
export interface Principal {
  kind: 'key' | 'session';
  /** Key id, or `user:<email>`. */
  id: string;
  name: string;
  role: Role;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    log: ModuleContext['log'];
    principal: Principal;
  };
};

export type RetainApp = OpenAPIHono<AppEnv>;
