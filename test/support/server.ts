import pino from 'pino';
import { createKey } from '../../src/modules/apikeys/service.js';
import type { Role } from '../../src/modules/apikeys/schema.js';
import type { Database } from '../../src/storage/port.js';
import { createApp, type CreateAppOptions } from '../../src/server/app.js';

/** Test helper: an app on `db` with silent logs, plus one API key per role. */
export async function testApp(db: Database, opts: Partial<CreateAppOptions> = {}) {
  const { app, deps } = await createApp({
    db,
    logger: pino({ level: 'silent' }),
    config: { authCacheMs: 0 },
    ...opts,
  });
  const keys = {} as Record<Role, string>;
  for (const role of ['admin', 'analyst', 'marketer', 'agent'] as const)
    keys[role] = (await createKey(deps, { role, name: `test ${role}` })).key;
  const call = async (
    method: string,
    path: string,
    o: { role?: Role; key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key ?? (o.role ? keys[o.role] : undefined);
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
  return { app, deps, keys, call };
}
