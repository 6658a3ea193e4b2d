import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../../shared/packageRoot.js';

/**
 * retain.js as `retain serve` answers it: the build's minified file (`dist/storefront/retain.js`, made
 * by scripts/snippet.mjs), else the source beside this module (a checkout without a build). Read once per
 * process, with its ETag and a gzip copy for clients that accept it.
 */
export interface SnippetAsset {
  file: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

let override: string | undefined;
let cached: SnippetAsset | null | undefined;

/** Serves `file` instead (tests: a fresh build in a temporary directory). */
export function configureSnippet(opts: { file?: string | undefined }): void {
  override = opts.file;
  cached = undefined;
}

export function snippetAsset(): SnippetAsset | null {
  if (cached !== undefined) return cached;
  const root = packageRoot();
  const file = [
    override,
    join(root, 'dist', 'storefront', 'retain.js'),
    join(root, 'src', 'modules', 'storefront', 'snippet', 'retain.js'),
  ].find((f): f is string => f !== undefined && existsSync(f));
  if (!file) return (cached = null);
  const body = readFileSync(file);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return (cached = { file, body, gzip: gzipSync(body, { level: 9 }), etag });
}
