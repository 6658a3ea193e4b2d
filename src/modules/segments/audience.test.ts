import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { jsonCli } from '../../../test/support/cli.js';
import { openStore } from '../store.js';
import { generate, load, NOW, type Customer } from '../../../test/support/segmentStore.js';
import { testApp } from '../../../test/support/server.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { csvField, e164, normalEmail } from './audience.js';

/** A small RFC 4180 reader, independent of the writer under test. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') endField();
    else if (ch === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length) {
    endField();
    rows.push(row);
  }
  return rows;
}

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

describe('audience normalisation', () => {
  it('emails trimmed and lower-cased; phones to E.164 or nothing', () => {
    expect(normalEmail('  Ann.Lee@Example.COM ')).toBe('ann.lee@example.com');
    expect(normalEmail('   ')).toBeNull();
    expect(normalEmail('not-an-address')).toBeNull();
    expect(e164('+380 (50) 123-45-67')).toBe('+380501234567');
    expect(e164('00 44 7700 900123')).toBe('+447700900123');
    expect(e164('+1.212.555.0100')).toBe('+12125550100');
    expect(e164('050 123 45 67')).toBeNull(); // national form: the country is unknown
    expect(e164('+0123456789')).toBeNull();
    expect(e164('+12')).toBeNull();
  });

  it('quotes CSV fields with commas, quotes, line breaks and edge spaces', () => {
    expect(csvField('plain')).toBe('plain');
    // Formula injection: a name a spreadsheet would run is neutralised; phones and numbers are not.
    expect(csvField('=HYPERLINK("http://x.test","y")')).toBe(`"'=HYPERLINK(""http://x.test"",""y"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('-2+3')).toBe("'-2+3");
    expect(csvField('+380 50 123-45-67')).toBe('+380 50 123-45-67');
    expect(csvField(-5)).toBe('-5');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' pad')).toBe('" pad"');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
  });
});

describe.each(testEngines())('audience exports on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let t: Awaited<ReturnType<typeof testApp>>;
  const data = generate(11);
  const live = (c: Customer) => !c.erased;
  // Contacts as shops write them: padded mixed-case emails, phones with spaces, 00, or national form.
  const odd = data.customers.filter((c) => live(c) && c.email && c.phone).slice(0, 3);
  odd[0]!.email = `  Mixed.Case${odd[0]!.id}@Example.TEST `;
  odd[0]!.phone = `+380 (50) ${String(odd[0]!.id).padStart(3, '0')}-00-11`;
  odd[1]!.phone = `00380 50 ${String(odd[1]!.id).padStart(7, '0')}`;
  odd[2]!.phone = '050 123 45 67';
  for (const c of odd) {
    c.tags = [...new Set([...c.tags, 'vip'])];
    c.consents.ads = 'granted';
  }
  const expectedHashes = (c: Customer) => {
    const email = c.email?.trim().toLowerCase() ?? '';
    const digits = (c.phone ?? '').replace(/[^0-9+]/g, '').replace(/^00/, '+');
    const phone = /^\+[1-9]\d{7,14}$/.test(digits) ? digits : '';
    return [email ? hex(email) : '', phone ? hex(phone) : ''];
  };
  const audienceOf = (cs: Customer[]) =>
    cs
      .filter((c) => live(c) && c.tags.includes('vip') && c.consents.ads === 'granted')
      .filter((c) => expectedHashes(c).some((h) => h !== ''))
      .sort((a, b) => a.id - b.id);

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    await load(db, data);
    t = await testApp(db, { clock: new ManualClock(NOW) });
    const saved = await t.call('POST', '/v1/segments', {
      role: 'marketer',
      body: { name: 'tagged-vip', rule: { field: 'tag', op: 'has', value: 'vip' } },
    });
    expect(saved.status).toBe(201);
  }, 60_000);
  afterAll(async () => dispose?.());

  const exportOf = (body: unknown, role: 'admin' | 'analyst' | 'marketer' = 'analyst') =>
    t.call('POST', '/v1/segments/tagged-vip/exports', { role, body });

  it('hashed: only members with ads consent granted, hashes equal an independent SHA-256', async () => {
    const r = await exportOf({});
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parseCsv(r.text);
    expect(rows[0]).toEqual(['email_sha256', 'phone_sha256']);
    const want = audienceOf(data.customers);
    expect(want.length).toBeGreaterThan(5);
    expect(rows.slice(1)).toEqual(want.map(expectedHashes));
    // The odd contacts: normalised before hashing; a national number is left out.
    const [a, b, c] = odd;
    expect(rows).toContainEqual([
      hex(`mixed.case${a!.id}@example.test`),
      hex(`+38050${String(a!.id).padStart(3, '0')}0011`),
    ]);
    expect(rows).toContainEqual([hex(b!.email!), hex(`+38050${String(b!.id).padStart(7, '0')}`)]);
    expect(rows).toContainEqual([hex(c!.email!), '']);
    // Members without ads consent, and erased customers, are never in the file.
    const members = data.customers.filter((x) => live(x) && x.tags.includes('vip'));
    const outside = members.filter((x) => x.consents.ads !== 'granted' && x.email);
    expect(outside.length).toBeGreaterThan(0);
    for (const x of outside) expect(rows.flat()).not.toContain(hex(x.email!.trim().toLowerCase()));
    const id = Number(r.headers.get('x-retain-export-id'));
    const list = await t.call('GET', '/v1/segments/tagged-vip/exports', { role: 'analyst' });
    expect(list.json.exports[0]).toMatchObject({
      id,
      kind: 'hashed',
      members: members.length,
      rows: want.length,
      previousExportId: null,
      added: null,
      removed: null,
    });
  });

  it('changes: who joined and who left since the previous export, after tags and consent moved', async () => {
    const before = audienceOf(data.customers);
    const leaver = before.find((c) => c.email && !odd.includes(c))!;
    const withdrawn = before.find((c) => c !== leaver && c.email && !odd.includes(c))!;
    const joiner = data.customers.find(
      (c) => live(c) && !c.tags.includes('vip') && c.consents.ads === 'granted' && c.email,
    )!;
    expect([leaver, withdrawn, joiner].every(Boolean)).toBe(true);
    const first = await exportOf({ format: 'json' });
    expect(first.status).toBe(200);
    // A tag change moves two customers; a withdrawn ads consent takes a third out of the audience.
    const tag = (c: Customer, body: unknown) =>
      t.call('PATCH', `/v1/customers/${c.ext}/tags`, { role: 'marketer', body });
    expect((await tag(leaver, { remove: ['vip'] })).status).toBe(200);
    expect((await tag(joiner, { add: ['vip'] })).status).toBe(200);
    await db.exec(
      `UPDATE customer_consents SET status = 'denied' WHERE customer_id = $1 AND channel = 'ads'`,
      [withdrawn.id],
    );
    leaver.tags = leaver.tags.filter((x) => x !== 'vip');
    joiner.tags.push('vip');
    withdrawn.consents.ads = 'denied';

    const r = await exportOf({ changes: true, format: 'json' });
    expect(r.status, r.text).toBe(200);
    expect(r.json.changes).toEqual({
      previousExportId: first.json.export.id,
      added: 1,
      removed: 2,
      removedListed: 2,
      removedUnlisted: 0,
    });
    expect(r.json.export).toMatchObject({ added: 1, removed: 2, previousExportId: first.json.export.id });
    const rows = parseCsv(r.json.csv);
    expect(rows).toEqual([
      ['change', 'email_sha256', 'phone_sha256'],
      ['added', ...expectedHashes(joiner)],
      ...[leaver, withdrawn].sort((a, b) => a.id - b.id).map((c) => ['removed', ...expectedHashes(c)]),
    ]);
    // The export recorded the new member set: a third export shows no change.
    const again = await exportOf({ changes: true, format: 'json' });
    expect(again.json.changes).toMatchObject({ added: 0, removed: 0 });
    expect(parseCsv(again.json.csv)).toEqual([['change', 'email_sha256', 'phone_sha256']]);
    expect(again.json.export.rows).toBe(audienceOf(data.customers).length);
  });

  it('erasing a customer removes them from the export history; the next export counts them', async () => {
    const gone = audienceOf(data.customers).find((c) => !odd.includes(c))!;
    const held = async () =>
      (
        await db.query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM audience_export_members WHERE customer_id = $1`,
          [gone.id],
        )
      )[0]!.n;
    expect(await held()).toBeGreaterThan(0);
    expect((await t.call('POST', `/v1/customers/${gone.ext}/erase`, { role: 'admin' })).status).toBe(200);
    expect(await held()).toBe(0);
    gone.erased = true;
    const r = await exportOf({ changes: true, format: 'json' });
    expect(r.json.changes).toMatchObject({ added: 0, removed: 1, removedListed: 0, removedUnlisted: 1 });
    expect(parseCsv(r.json.csv)).toHaveLength(1);
  });

  it('merging moves export memberships to the survivor', async () => {
    const from = audienceOf(data.customers).find((c) => !odd.includes(c))!;
    const into = data.customers.find((c) => live(c) && !c.tags.includes('vip'))!;
    const exportsOf = async (id: number) =>
      (
        await db.query<{ export_id: number }>(
          `SELECT export_id FROM audience_export_members WHERE customer_id = $1 ORDER BY export_id`,
          [id],
        )
      ).map((r) => r.export_id);
    const held = await exportsOf(from.id);
    expect(held.length).toBeGreaterThan(0);
    const m = await t.call('POST', `/v1/customers/${into.ext}/merge`, {
      role: 'admin',
      body: { from: [from.ext] },
    });
    expect(m.status, m.text).toBe(200);
    expect(await exportsOf(from.id)).toEqual([]);
    expect(await exportsOf(into.id)).toEqual(held);
    // The survivor takes the merged customer's tags; the merged one is gone.
    into.tags.push(...from.tags.filter((x) => !into.tags.includes(x)));
    from.erased = true;
  });

  it('plain: chosen columns of every member, quoted; bad columns refused naming the column', async () => {
    const who = data.customers.find(
      (c) => live(c) && c.tags.includes('vip') && c.consents.ads !== 'granted',
    )!;
    await db.exec(`UPDATE customers SET first_name = $2 WHERE customer_id = $1`, [
      who.id,
      'O"Brien, Jr.\nSecond line',
    ]);
    const r = await exportOf({ kind: 'plain', columns: 'id,first_name,country,orders,revenue_minor' });
    expect(r.status, r.text).toBe(200);
    const rows = parseCsv(r.text);
    expect(rows[0]).toEqual(['id', 'first_name', 'country', 'orders', 'revenue_minor']);
    const members = data.customers.filter((c) => live(c) && c.tags.includes('vip'));
    expect(rows.slice(1).map((x) => x[0])).toEqual(members.sort((a, b) => a.id - b.id).map((c) => c.ext));
    expect(rows.find((x) => x[0] === who.ext)).toEqual([
      who.ext,
      'O"Brien, Jr.\nSecond line',
      who.country ?? '',
      expect.stringMatching(/^\d+$/),
      expect.stringMatching(/^-?\d+$/),
    ]);
    // Bad input: a 400 naming the column, nothing recorded.
    const count = (await t.call('GET', '/v1/segments/tagged-vip/exports', { role: 'analyst' })).json.exports
      .length;
    const bad = await exportOf({ kind: 'plain', columns: 'id,colour' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/columns: unknown column 'colour' \(columns: id, email/);
    const listed = await exportOf({ kind: 'plain', columns: ['id', 'id'] });
    expect(listed.json.error.message).toMatch(/columns\[1\]: column 'id' is named twice/);
    expect((await exportOf({ columns: 'id' })).json.error.message).toMatch(/columns apply to plain/);
    expect((await exportOf({ kind: 'csv' })).status).toBe(400);
    expect((await exportOf({ sort: 'id' })).json.error.message).toMatch(/unknown body parameter sort/);
    expect(
      (await t.call('GET', '/v1/segments/tagged-vip/exports', { role: 'analyst' })).json.exports.length,
    ).toBe(count);
  });

  it('needs the export permission; unknown segments are 404', async () => {
    expect((await exportOf({}, 'marketer')).status).toBe(403);
    expect((await t.call('POST', '/v1/segments/tagged-vip/exports', { role: 'agent' })).status).toBe(403);
    expect((await t.call('POST', '/v1/segments/nonesuch/exports', { role: 'admin' })).status).toBe(404);
    // A built-in segment exports like a saved one.
    const b = await t.call('POST', '/v1/segments/top-revenue/exports', { role: 'admin', body: {} });
    expect(b.status).toBe(200);
  });
});

describe('retain segments export (CLI, DuckDB)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-audience-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the CSV to --out, records it, and refuses a bad column with a validation error', async () => {
    const file = join(dir, 'store.duckdb');
    const data = generate(5);
    const db = await openStore({ db: file });
    await load(db, data);
    await db.close();
    const run = jsonCli(file);
    await run(
      'segments',
      'create',
      JSON.stringify({ name: 'fans', rule: { field: 'orders', op: 'gte', value: 1 } }),
    );
    const out = join(dir, 'fans.csv');
    const r = await run('segments', 'export', 'fans', '--out', out);
    expect(r.out).toBe(out);
    expect(r.csv).toBeUndefined();
    const rows = parseCsv(readFileSync(out, 'utf8'));
    expect(rows[0]).toEqual(['email_sha256', 'phone_sha256']);
    expect(rows.length - 1).toBe(r.export.rows);
    const plain = join(dir, 'fans-plain.csv');
    const p = await run(
      'segments',
      'export',
      'fans',
      '--plain',
      '--columns',
      'id,email,clv_minor',
      '--out',
      plain,
    );
    expect(parseCsv(readFileSync(plain, 'utf8'))[0]).toEqual(['id', 'email', 'clv_minor']);
    expect(p.export).toMatchObject({ kind: 'plain', columns: ['id', 'email', 'clv_minor'] });
    await expect(
      run('segments', 'export', 'fans', '--plain', '--columns', 'id,shoe_size', '--out', plain),
    ).rejects.toMatchObject({
      code: 'validation',
      message: expect.stringMatching(/unknown column 'shoe_size'/),
    });
    // Nothing recorded for the refused one; an --out that cannot be written records nothing either.
    await expect(run('segments', 'export', 'fans', '--out', join(dir, 'missing', 'x.csv'))).rejects.toThrow(
      /ENOENT/,
    );
    const list = await run('segments', 'exports', 'fans');
    expect(list.exports.map((e: { kind: string }) => e.kind)).toEqual(['plain', 'hashed']);
  });
});
