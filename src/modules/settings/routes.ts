import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { ErrorBody } from '../../kit/http/errors.js';
import { parseInput } from '../../kit/http/input.js';
import { documented, json } from '../../kit/http/openapi.js';
import { StoreSettings, UpdateStore } from './schema.js';
import * as service from './service.js';

const tags = ['store'];

/** The store settings over HTTP: every role reads them (the dashboard's locale); admins change them. */
export function registerStoreRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.get(
    '/v1/store',
    documented(app, auth, 'commerce:read', {
      method: 'get',
      path: '/v1/store',
      tags,
      summary: 'Store settings: name, currency, time zone, default locale (unset ones with their default)',
      responses: { 200: json(StoreSettings, 'The settings') },
    }),
    async (c) => c.json(await service.getStore(deps)),
  );
  app.patch(
    '/v1/store',
    documented(app, auth, 'store:manage', {
      method: 'patch',
      path: '/v1/store',
      tags,
      summary: 'Change store settings; a field left out stays as it is',
      description:
        'Reports cut days, months and quarters in `timeZone`; imports and reports use `currency`; messages ' +
        'greet with `name` (`{{ store.name }}`; null clears it). A currency other than that of stored orders ' +
        'is a 409 that writes nothing. A change of the currency, time zone or locale records a ' +
        '`store.updated` event (a name change none).',
      request: { body: { required: true, content: { 'application/json': { schema: UpdateStore } } } },
      responses: {
        200: json(StoreSettings, 'The settings after the change'),
        409: json(ErrorBody, 'Orders exist in another currency; nothing was written'),
      },
    }),
    async (c) => {
      const body = parseInput(UpdateStore, await c.req.json(), 'body');
      return c.json(await service.updateStore(deps, body));
    },
  );
}
