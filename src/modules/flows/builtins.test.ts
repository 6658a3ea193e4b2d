import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import { setPolicy, getTemplate } from '../messaging/service.js';
import { BUILTIN_FLOWS } from './builtins.js';
import { installBuiltin, listBuiltins } from './service.js';

/** Every built-in flow installs: its definition is valid and its messages compile in en/uk/ru. */
describe('built-in flows', () => {
  let ctx: ModuleContext;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const f = await freshDatabase('duckdb');
    dispose = f.dispose;
    ctx = testContext(f.db, new ManualClock('2026-05-04T06:00:00Z'));
    await setPolicy(ctx, { publicUrl: 'https://retain.example' });
  }, 60_000);
  afterAll(() => dispose());

  it('lists ten and installs each as a draft with its messages, keeping the store’s own templates', async () => {
    expect(listBuiltins().map((b) => b.key)).toEqual(BUILTIN_FLOWS.map((b) => b.key));
    expect(BUILTIN_FLOWS).toHaveLength(10);
    for (const b of BUILTIN_FLOWS) {
      const r = await installBuiltin(ctx, { key: b.key, shopUrl: 'https://shop.example', by: null });
      expect(r.flow).toMatchObject({ name: b.key, status: 'draft', version: 1 });
      expect(r.templates.created).toEqual(b.messages.map((m) => m.name));
      for (const m of b.messages) {
        const t = await getTemplate(ctx, { name: m.name });
        expect(JSON.stringify(t)).toContain('unsubscribe_url');
      }
    }
    const again = await installBuiltin(ctx, { key: 'welcome', name: 'welcome-b', by: null });
    expect(again.templates).toEqual({ created: [], kept: ['welcome-1', 'welcome-2', 'welcome-3'] });
    await expect(installBuiltin(ctx, { key: 'welcome', by: null })).rejects.toThrow(/exists already/);
    await expect(installBuiltin(ctx, { key: 'nope', by: null })).rejects.toThrow(/no built-in flow 'nope'/);
    await expect(
      installBuiltin(ctx, { key: 'birthday', name: 'bd2', shopUrl: 'javascript:alert(1)', by: null }),
    ).rejects.toThrow(/http\(s\) URL/);
  }, 120_000);
});
