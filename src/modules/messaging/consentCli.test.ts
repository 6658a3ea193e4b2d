import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DELIVER_JOB as OPTIN_DELIVER_JOB } from './optin.js';
import { DELIVER_JOB } from './service.js';
import { jsonCli } from '../../../test/support/cli.js';

describe('retain consent link, retain send feedback, retain messaging --double-opt-in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-consent-'));
  const db = join(dir, 'store.duckdb');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = jsonCli(db);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('prints the preference link, sets double opt-in, feeds bounce files (a bad one writes nothing)', async () => {
    await run('import', 'customers', file('c.csv', 'customer_id,email\nC-1,ann@example.test\n'));
    await expect(run('consent', 'link', 'C-1')).rejects.toThrow(/publicUrl/);
    await expect(run('messaging', '--double-opt-in', 'email')).rejects.toThrow(/doubleOptIn needs publicUrl/);
    await expect(run('messaging', '--double-opt-in', 'fax')).rejects.toThrow(/got 'fax'/);
    expect(
      await run('messaging', '--public-url', 'https://shop.test/', '--double-opt-in', 'email'),
    ).toMatchObject({ doubleOptIn: ['email'], publicUrl: 'https://shop.test/' });
    expect((await run('consent', 'link', 'C-1')).url).toMatch(/^https:\/\/shop\.test\/p\/[0-9a-z]+\./);
    await expect(run('consent', 'link', 'nobody')).rejects.toThrow(/no customer with id nobody/);

    const dsn = file(
      'bounce.eml',
      readFileSync(new URL('./fixtures/postfix-dsn.eml', import.meta.url), 'utf8')
        .replaceAll('{{RECIPIENT}}', 'Ann@Example.test')
        .replaceAll('{{KEY}}', 'unknown-key'),
    );
    const bad = file('autoreply.eml', 'From: ann@example.test\nSubject: Out of office\n\nBack on Monday.\n');
    await expect(run('send', 'feedback', dsn, bad)).rejects.toThrow(/Content-Type is text\/plain/);
    await expect(run('send', 'feedback', dsn, bad)).rejects.toMatchObject({ where: { file: bad } });
    const r = await run('send', 'feedback', dsn);
    expect(r.data).toMatchObject([
      {
        file: dsn,
        type: 'delivery-status',
        recipients: [{ address: 'ann@example.test', kind: 'bounce', suppressed: true }],
      },
    ]);
    expect((await run('send', 'feedback', dsn)).data[0].recipients[0].suppressed).toBe(false);
  });

  it('names the delivery job as the send path does', () => {
    // optin.ts names it without importing the send path (an order need not load Liquid and MJML).
    expect(OPTIN_DELIVER_JOB).toBe(DELIVER_JOB);
  });
});
