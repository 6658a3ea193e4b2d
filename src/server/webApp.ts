import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { RetainApp } from '../kit/http/context.js';
import { packageRoot } from '../shared/packageRoot.js';

/**
 * The dashboard (web/, built by Vite into dist/web): `/assets/*` as files (content-hashed names, cached
 * for a year), and `index.html` for the app's own paths — any GET asking for HTML outside the API, the
 * public links (`/u/`, `/p/`, `/c/`, `/l/`, `/o/`) and the provider hooks — so a reload on `/customers/42` works.
 */
const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};
const NOT_APP = /^\/(v1|hooks|u|p|c|l|o)(\/|$)|^\/(openapi\.json|docs|health|ready)$/;

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Retain</title></head>
<body><main><h1>Retain</h1><p>The dashboard is not built: run <code>npm run build</code>, then reload.</p>
<p>The API answers at <a href="/docs">/docs</a>.</p></main></body></html>`;

export function registerWebApp(app: RetainApp, root = join(packageRoot(), 'dist', 'web')): void {
  const indexFile = join(root, 'index.html');
  let index: string | null = null;
  const page = () => (index ??= existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : null);

  app.get('/assets/*', async (c) => {
    const file = normalize(join(root, c.req.path));
    if (!file.startsWith(join(root, 'assets') + sep)) return c.notFound();
    try {
      const body = await readFile(file);
      return c.body(body, 200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'public, max-age=31536000, immutable',
      });
    } catch {
      return c.notFound();
    }
  });

  app.get('*', async (c, next) => {
    if (NOT_APP.test(c.req.path) || !(c.req.header('accept') ?? '').includes('text/html')) return next();
    const html = page();
    c.header('cache-control', 'no-cache');
    return html ? c.html(html) : c.html(NOT_BUILT, 200);
  });
}
