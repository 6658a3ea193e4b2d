import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';

/** The subscription reports' routes (docs/subscriptions.md#reports). */
export function registerSubscriptionReportRoutes(_app: RetainApp, _deps: ServerDeps, _auth: Auth): void {}
