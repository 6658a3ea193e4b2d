import type { RetainApp, ServerDeps } from '../../kit/http/context.js';

/** The customer's own page of a subscription, reached by a signed link (docs/subscriptions.md). */
export function registerSubscriptionPages(_app: RetainApp, _deps: ServerDeps): void {}
