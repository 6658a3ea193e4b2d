import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';
import { testContext } from '../../../test/support/context.js';
import { systemClock } from '../../kit/clock.js';
import { AppError } from '../../shared/errors.js';
import { upsertCustomer } from '../customers/service.js';
import { setPolicy } from '../messaging/service.js';
import { openStore } from '../store.js';
import { createUser } from '../users/service.js';

/** `retain surveys …` end to end on a DuckDB file. */
describe('retain surveys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-surveys-cli-'));
  const db = join(dir, 'shop.duckdb');
  const run = jsonCli(db, { quiet: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(async () => {
    const store = await openStore({ db });
    const ctx = testContext(store, systemClock);
    for (const id of ['ann', 'bob'])
      await upsertCustomer(ctx, {
        body: { customer_id: id, email: `${id}@example.com`, email_consent: 'granted' },
      });
    await createUser(ctx, { email: 'mia@shop.com', role: 'agent', password: 'correct horse battery' });
    await setPolicy(ctx, { publicUrl: 'https://shop.test' });
    await store.close();
  });

  it('saves, lists, invites (once per occurrence, then throttled) and reports; bad input names the field', async () => {
    const file = join(dir, 'survey.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'csat-order',
        kind: 'csat',
        lowScore: { atMost: 2, assignees: ['mia@shop.com'] },
      }),
    );
    expect(await run('surveys', 'save', file)).toMatchObject({
      name: 'csat-order',
      template: 'survey-csat-order',
    });
    expect((await run('surveys', 'list')).map((s: { name: string }) => s.name)).toEqual(['csat-order']);
    const ids = join(dir, 'ids.txt');
    writeFileSync(ids, 'ann\nbob\n');
    expect(
      await run('surveys', 'invite', 'csat-order', '--customers', ids, '--occurrence', 'o-1'),
    ).toMatchObject({
      invited: 2,
    });
    expect(
      await run('surveys', 'invite', 'csat-order', '--customer', 'ann', '--occurrence', 'o-2'),
    ).toMatchObject({
      invited: 0,
      throttled: 1,
    });
    expect(await run('surveys', 'results', 'csat-order')).toMatchObject({
      invited: 2,
      answered: 0,
      csat: null,
    });

    writeFileSync(file, JSON.stringify({ name: 'Bad Name', kind: 'nps' }));
    const bad = await run('surveys', 'save', file).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(AppError);
    expect((bad as AppError).message).toContain('name');
    const unknown = await run(
      'surveys',
      'invite',
      'csat-order',
      '--customer',
      'zed',
      '--occurrence',
      'o-3',
    ).catch((e: unknown) => e);
    expect((unknown as AppError).where?.field).toBe('customers[0]');
  });
});
