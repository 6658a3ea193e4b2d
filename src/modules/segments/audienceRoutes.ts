import { z } from '@hono/zod-openapi';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import { parseInput } from '../../kit/http/input.js';
import { documented, json } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { exportAudience, listAudienceExports } from './audience.js';
import { AudienceExport, AudienceExportRequest, AudienceExportResult } from './audienceSchema.js';

const tags = ['segments'];
const NameParam = z.object({ name: z.string().min(1) });

/** `POST /v1/segments/{name}/exports` and `GET /v1/segments/{name}/exports` (registered from routes.ts). */
export function registerAudienceRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  app.post(
    '/v1/segments/:name/exports',
    documented(app, auth, 'export', {
      method: 'post',
      path: '/v1/segments/{name}/exports',
      tags,
      summary:
        'Export a segment as CSV (hashed email/phone of the ads-consented, or plain columns); recorded, so `changes` lists who joined and left since the previous export',
      request: {
        params: NameParam,
        body: { required: false, content: { 'application/json': { schema: AudienceExportRequest } } },
      },
      responses: {
        200: {
          description:
            'The CSV (text/csv; header x-retain-export-id), or with format json the export and the CSV',
          content: {
            'text/csv': { schema: z.string() },
            'application/json': { schema: AudienceExportResult },
          },
        },
      },
    }),
    async (c) => {
      const text = await c.req.text();
      let raw: unknown = {};
      if (text.trim() !== '')
        try {
          raw = JSON.parse(text) as unknown;
        } catch (err) {
          throw new AppError('validation', `the body is not JSON: ${(err as Error).message}`);
        }
      const { format, ...body } = parseInput(AudienceExportRequest, raw, 'body');
      const name = c.req.param('name');
      const r = await exportAudience(deps, { name, body, by: c.get('principal')?.id ?? null });
      if (format === 'json') return c.json(r, 200);
      return c.body(r.csv, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${name}-${r.export.kind}-${r.export.id}${body.changes ? '-changes' : ''}.csv"`,
        'x-retain-export-id': String(r.export.id),
      });
    },
  );
  app.get(
    '/v1/segments/:name/exports',
    documented(app, auth, 'export', {
      method: 'get',
      path: '/v1/segments/{name}/exports',
      tags,
      summary: "A segment's recorded audience exports, newest first (the last 100)",
      request: { params: NameParam },
      responses: { 200: json(z.object({ exports: z.array(AudienceExport) }), 'The exports') },
    }),
    async (c) => c.json(await listAudienceExports(deps, { name: c.req.param('name') }), 200),
  );
}
