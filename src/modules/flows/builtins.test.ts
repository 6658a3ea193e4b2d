import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { ModuleContext } from '../../kit/context.js';
import { setPolicy, getTemplate } from '../messaging/service.js';
import { getSurvey } from '../surveys/service.js';
import { createUser, disableUser } from '../users/service.js';
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
    expect(listBuiltins().find((b) => b.key === 'survey-after-delivery')).toMatchObject({
      messages: [],
      surveys: ['after-delivery'],
    });
    for (const b of BUILTIN_FLOWS) {
      const r = await installBuiltin(ctx, { key: b.key, shopUrl: 'https://shop.example', by: null });
      expect(r.flow).toMatchObject({ name: b.key, status: 'draft', version: 1 });
      expect(r.templates.created).toEqual(b.messages.map((m) => m.name));
      expect(r.surveys.created).toEqual((b.surveys ?? []).map((s) => s.name));
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

/**
 * Survey after delivery: installing it saves the survey its step names when the store has none — NPS,
 * a 30-day throttle, and a low score (≤ 6) a call task for the user installing, due in 24 hours; with no
 * such user (the CLI, an API key, a disabled user) no tasks. A survey of that name already is kept.
 */
describe.each(testEngines())('installing survey after delivery on %s', (engine) => {
  const open = async () => {
    const f = await freshDatabase(engine);
    const ctx = testContext(f.db, new ManualClock('2026-05-04T06:00:00Z'));
    await setPolicy(ctx, { publicUrl: 'https://retain.example' });
    await createUser(ctx, { email: 'mia@shop.test', role: 'marketer', password: 'correct horse battery' });
    await createUser(ctx, { email: 'joe@shop.test', role: 'marketer', password: 'correct horse battery' });
    await disableUser(ctx, { email: 'joe@shop.test' });
    return { ctx, dispose: f.dispose };
  };

  it('the installing user gets the low scores’ call tasks; a second install keeps the survey', async () => {
    const { ctx, dispose } = await open();
    try {
      const r = await installBuiltin(ctx, { key: 'survey-after-delivery', by: 'user:mia@shop.test' });
      expect(r).toMatchObject({
        flow: { name: 'survey-after-delivery', status: 'draft' },
        templates: { created: [], kept: [] },
        surveys: { created: ['after-delivery'], kept: [] },
      });
      const s = await getSurvey(ctx, { name: 'after-delivery' });
      expect(s).toMatchObject({ kind: 'nps', status: 'active', template: 'survey-after-delivery' });
      expect(s.definition).toMatchObject({
        throttleDays: 30,
        lowScore: { atMost: 6, assignees: ['mia@shop.test'], slaHours: 24 },
      });
      // The survey's invitation template, in three languages with its score links and unsubscribe link.
      const t = JSON.stringify(await getTemplate(ctx, { name: 'survey-after-delivery' }));
      for (const l of ['en', 'uk', 'ru']) expect(t).toContain(`"${l}"`);
      expect(t).toContain('survey.scores');
      expect(t).toContain('unsubscribe_url');
      const second = await installBuiltin(ctx, {
        key: 'survey-after-delivery',
        name: 'survey-b',
        by: 'user:joe@shop.test',
      });
      expect(second.surveys).toEqual({ created: [], kept: ['after-delivery'] });
      expect((await getSurvey(ctx, { name: 'after-delivery' })).definition).toMatchObject({
        lowScore: { assignees: ['mia@shop.test'] },
      });
    } finally {
      await dispose();
    }
  }, 60_000);

  it('with no active user installing, the survey makes no tasks', async () => {
    const { ctx, dispose } = await open();
    try {
      const r = await installBuiltin(ctx, { key: 'survey-after-delivery', by: 'user:joe@shop.test' });
      expect(r.surveys).toEqual({ created: ['after-delivery'], kept: [] });
      expect((await getSurvey(ctx, { name: 'after-delivery' })).definition).toMatchObject({ lowScore: null });
    } finally {
      await dispose();
    }
  }, 60_000);
});
