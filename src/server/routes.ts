import { registerKeyRoutes } from '../modules/apikeys/routes.js';
import { registerCustomerRoutes } from '../modules/customers/routes.js';
import { registerEventRoutes } from '../modules/events/routes.js';
import { registerOrderRoutes } from '../modules/orders/routes.js';
import { registerProductRoutes } from '../modules/products/routes.js';
import { registerSessionRoutes } from '../modules/users/routes.js';
import { registerSpendRoutes } from '../modules/spend/routes.js';
import { registerWebhookRoutes } from '../modules/webhooks/routes.js';
import type { Auth } from './auth.js';
import { registerBasketRoutes } from './basketRoutes.js';
import { registerClvRoutes } from './clvRoutes.js';
import { registerImportRoutes } from './importRoutes.js';
import { registerRecommendRoutes } from './recommendRoutes.js';
import { registerReportRoutes } from './reportRoutes.js';
import type { RetainApp, ServerDeps } from './context.js';

/** Every module's routes under /v1 (and the webhooks). */
export function registerRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  registerEventRoutes(app, deps, auth);
  registerCustomerRoutes(app, deps, auth);
  registerOrderRoutes(app, deps, auth);
  registerProductRoutes(app, deps, auth);
  registerSpendRoutes(app, deps, auth);
  registerReportRoutes(app, deps, auth);
  registerImportRoutes(app, deps, auth);
  registerWebhookRoutes(app, deps);
  registerKeyRoutes(app, deps, auth);
  registerRecommendRoutes(app, deps, auth);
  registerSessionRoutes(app, deps, auth);
  registerClvRoutes(app, deps, auth);
  registerBasketRoutes(app, deps, auth);
}
