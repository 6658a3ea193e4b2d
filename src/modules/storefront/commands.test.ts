import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';

describe('retain storefront', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-storefront-'));
  const run = jsonCli(join(dir, 'store.duckdb'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates, lists and revokes site keys, and prints the snippet tag', async () => {
    await expect(run('storefront', 'snippet', '--endpoint', 'https://retain.example')).rejects.toThrow(
      /no active site key yet: retain storefront key create --origin/,
    );
    const k = await run(
      'storefront',
      'key',
      'create',
      '--origin',
      'https://shop.example',
      '--origin',
      'https://www.shop.example/',
      '--require-consent',
    );
    expect(k).toMatchObject({
      origins: ['https://shop.example', 'https://www.shop.example'],
      requireConsent: true,
      name: 'storefront https://shop.example',
      revokedAt: null,
    });
    expect(k.key).toMatch(/^pk_[A-Za-z0-9_-]{24}$/);
    const tag = await run('storefront', 'snippet', '--endpoint', 'https://retain.example/');
    expect(tag.html).toBe(
      '<script>window.retain=window.retain||function(){(retain.q=retain.q||[]).push(arguments)};</script>\n' +
        `<script async src="https://retain.example/retain.js" data-key="${k.key}" data-require-consent></script>`,
    );
    await expect(run('storefront', 'snippet')).rejects.toThrow(/give the endpoint/);
    await expect(run('storefront', 'snippet', '--endpoint', 'ftp://x')).rejects.toThrow(
      /expected the endpoint as an http\(s\) URL/,
    );
    await expect(run('storefront', 'key', 'create', '--origin', 'shop.example')).rejects.toThrow(
      /invalid site key: origins\.0: expected an origin like https:\/\/shop\.example/,
    );
    expect(await run('storefront', 'key', 'list')).toHaveLength(1);
    expect(await run('storefront', 'key', 'revoke', k.key)).toMatchObject({ key: k.key });
    expect((await run('storefront', 'key', 'list'))[0].revokedAt).not.toBeNull();
    await expect(run('storefront', 'key', 'revoke', 'pk_nope')).rejects.toThrow(/no site key pk_nope/);
    await expect(
      run('storefront', 'snippet', '--endpoint', 'https://r.example', '--key', k.key),
    ).rejects.toThrow(/no active site key pk_/);
  });
});
