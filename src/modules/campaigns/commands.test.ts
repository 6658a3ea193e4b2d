import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jsonCli } from '../../../test/support/cli.js';

const mjml = (text: string) =>
  `<mjml><mj-body><mj-section><mj-column><mj-text>${text}</mj-text><mj-text><a href="{{ unsubscribe_url }}">Unsubscribe</a></mj-text></mj-column></mj-section></mj-body></mjml>`;

/** `retain campaigns …` end to end through the CLI: a list offer's codes from a file, errors at its lines. */
describe('retain campaigns create, codes, launch, pause, resume, codes-export, sweep', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-campaigns-'));
  const db = join(dir, 'store.duckdb');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = jsonCli(db);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('imports codes from a file naming the line of a bad one, launches, pauses, resumes, exports the codes', async () => {
    const customers = ['customer_id,email,email_consent'];
    for (let i = 1; i <= 40; i++) customers.push(`C-${i},c${i}@example.test,yes`);
    await run('import', 'customers', file('c.csv', customers.join('\n') + '\n'));
    await run('messaging', '--public-url', 'https://shop.test/', '--tracking', 'clicks');
    await expect(run('messaging', '--tracking', 'sometimes')).rejects.toThrow(/got 'sometimes'/);
    const template = (name: string) =>
      file(
        `${name}.json`,
        JSON.stringify({
          name,
          channel: 'email',
          kind: 'marketing',
          variants: [{ locale: 'en', subject: 'Hi', body: mjml('Code {{ discount_code }}') }],
        }),
      );
    await run('templates', 'save', template('gift'));
    const spec = {
      name: 'gifts',
      rule: { field: 'consent', channel: 'email', op: 'eq', value: 'granted' },
      holdoutShare: 0.5,
      variants: [
        {
          key: 'A',
          template: 'gift',
          share: 0.5,
          offer: { kind: 'percent', value: 10, codes: 'list', validDays: 14 },
        },
      ],
    };
    expect(await run('campaigns', 'create', file('gifts.json', JSON.stringify(spec)))).toMatchObject({
      status: 'draft',
    });
    const bad = file('bad.csv', 'Discount Code,Usage\nGIFT-1,0\n\n"GIFT 2",0\n');
    await expect(run('campaigns', 'codes', 'gifts', '--variant', 'A', '--file', bad)).rejects.toMatchObject({
      where: { file: bad, line: 4, field: 'code' },
    });
    const dup = file('dup.txt', 'g-1\nG-2\nG-1\n');
    await expect(run('campaigns', 'codes', 'gifts', '--variant', 'A', '--file', dup)).rejects.toThrow(
      /G-1 repeats line 1/,
    );
    const good = file(
      'codes.csv',
      'Discount Code\n' + Array.from({ length: 40 }, (_, i) => `gift-${i}`).join('\n') + '\n',
    );
    expect(await run('campaigns', 'codes', 'gifts', '--variant', 'A', '--file', good)).toEqual({
      variant: 'A',
      imported: 40,
      available: 40,
    });
    const launched = await run('campaigns', 'launch', 'gifts');
    expect(launched.recipients).toBe(40);
    expect(launched.queued).toBe(launched.arms.A);
    expect((await run('campaigns', 'pause', 'gifts')).status).toBe('paused');
    expect((await run('campaigns', 'resume', 'gifts')).status).toBe('sending');
    const codes = (await run('campaigns', 'codes-export', 'gifts')) as {
      code: string;
      customer: string | null;
    }[];
    // All 40 imported, each recipient of A with one; the rest unused.
    expect(codes).toHaveLength(40);
    expect(codes.filter((c) => c.customer !== null)).toHaveLength(launched.arms.A);
    expect(new Set(codes.map((c) => c.customer).filter(Boolean)).size).toBe(launched.arms.A);
    expect(await run('campaigns', 'sweep')).toEqual({ started: [], paused: [], done: [] });
  });
});
