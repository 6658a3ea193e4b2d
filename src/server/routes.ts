import type { Auth } from '../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../kit/http/context.js';
import { MODULES } from '../modules/registry.js';

/** Every module's routes (under /v1, and the webhooks), in registry order. */
export async function registerRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): Promise<void> {
  const registrars = await Promise.all(MODULES.map((m) => m.routes?.()));
  for (const register of registrars) register?.(app, deps, auth);
}
