import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';

describe('retain keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-keys-'));
  const db = join(dir, 'keys.duckdb');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = jsonCli(db);

  it('creates a key shown once, lists without secrets, revokes', async () => {
    const created = (await run('keys', 'create', '--role', 'analyst', '--name', 'dashboards')) as {
      key: string;
      keyId: string;
    };
    expect(created).toMatchObject({ role: 'analyst', name: 'dashboards', revokedAt: null });
    expect(created.key).toMatch(/^rk_[a-z0-9]{10}_[A-Za-z0-9_-]{43}$/);
    const list = (await run('keys', 'list')) as Record<string, unknown>[];
    expect(list).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(created.key.slice(14));
    await run('keys', 'revoke', created.keyId);
    expect(((await run('keys', 'list')) as { revokedAt: string | null }[])[0]?.revokedAt).not.toBeNull();
    await expect(run('keys', 'create', '--role', 'owner')).rejects.toThrow(/expected a role among admin/);
    await expect(run('keys', 'revoke', 'nope')).rejects.toThrow(/no API key with id nope/);
  });
});
