import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../store.js';
import { jsonCli } from '../../../test/support/cli.js';
import { generate, load } from '../../../test/support/segmentStore.js';

describe('retain segments', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-segments-'));
  const db = join(dir, 'seg.duckdb');
  const run = jsonCli(db);
  const data = generate(3);
  beforeAll(async () => {
    const store = await openStore({ db });
    await load(store, data);
    await store.close();
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates from a file, counts by name and by inline rule, previews, lists members, snapshots', async () => {
    const file = join(dir, 'regulars.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'regulars', rule: { all: [{ field: 'orders', op: 'gte', value: 2 }] } }),
    );
    expect((await run('segments', 'create', file)).created).toBe(true);
    const byName = await run('segments', 'count', 'regulars');
    const inline = await run('segments', 'count', '--rule', '{"field":"orders","op":"gte","value":2}');
    expect(byName.count).toBe(inline.count);
    expect(byName.count).toBeGreaterThan(0);
    const preview = await run('segments', 'preview', 'regulars');
    expect(preview.count).toBe(byName.count);
    const members = await run('segments', 'members', 'regulars', '--all');
    expect(members.items).toHaveLength(byName.count);
    const snap = await run('segments', 'snapshot', 'regulars');
    expect(snap).toMatchObject({ members: byName.count, entered: byName.count, left: 0 });
    const history = await run('segments', 'snapshots', 'regulars');
    expect(history.snapshots).toHaveLength(1);
    const changes = await run('segments', 'changes', String(snap.id), '--limit', '1000');
    expect(changes.items).toHaveLength(byName.count);
    const list = await run('segments', 'list');
    expect(list.segments.map((s: { name: string }) => s.name)).toContain('regulars');
    expect((await run('segments', 'fields')).fields.length).toBeGreaterThan(30);
  });

  it('names the bad part of a rule and of a file', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        name: 'bad',
        rule: { all: [{ field: 'orders', op: 'gte', value: 1 }, { any: [{ field: 'cuntry' }] }] },
      }),
    );
    await expect(run('segments', 'create', bad)).rejects.toThrow(
      /rule\.all\[1\]\.any\[0\]\.field: unknown field 'cuntry'/,
    );
    writeFileSync(bad, '{"name": "bad", ');
    await expect(run('segments', 'create', bad)).rejects.toThrow(/bad\.json is not JSON/);
    await expect(run('segments', 'count', '--rule', '{"any": []}')).rejects.toThrow(
      /rule\.any: an 'any' needs at least one rule/,
    );
    await expect(run('segments', 'count', '--rule', '{oops')).rejects.toThrow(/--rule is not JSON/);
    await expect(run('segments', 'count', 'nope')).rejects.toThrow(/no segment 'nope'/);
    await expect(run('segments', 'count')).rejects.toThrow(/give a segment name or a rule/);
    await expect(run('segments', 'snapshots', 'regulars', '--limit', '0')).rejects.toThrow(/--limit must be/);
    expect((await run('segments', 'list')).segments.map((s: { name: string }) => s.name)).not.toContain(
      'bad',
    );
  });
});
