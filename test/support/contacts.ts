import type { Database } from '../../src/storage/port.js';

/**
 * A seeded contact base for messaging tests and benches: `n` customers `ct-0001…` with an email, a
 * phone, a connected messenger chat, a locale (uk/ru/en in 45/35/20 %), a time zone, and the same consent decision on email, SMS and messenger. What it models (no
 * public data has consents): most contacts opted in at checkout; some declined, some unsubscribed
 * later; a few are erased (GDPR) or on the suppression list (a past hard bounce); some have had
 * marketing messages in the last days (the frequency cap). Every group is a fixed share, so tests
 * know the expected counts: see {@link contactGroups}.
 */
export interface ContactSeed {
  n: number;
  /** The clock's now: recent sends are placed in the 7 days before it. */
  now: Date;
  /** Contacts in a time zone where `now` is night (quiet hours), out of the consented ones. */
  nightZone?: string;
}

export type Group =
  'granted' | 'denied' | 'unsubscribed' | 'erased' | 'suppressed' | 'capped' | 'near-cap' | 'night';

/** The group of contact i (1-based): fixed by position, so counts are exact. */
export function groupOf(i: number): Group {
  const r = i % 100;
  if (r < 5) return 'denied';
  if (r < 10) return 'unsubscribed';
  if (r < 12) return 'erased';
  if (r < 14) return 'suppressed';
  if (r < 17) return 'capped';
  if (r < 22) return 'near-cap';
  if (r < 25) return 'night';
  return 'granted';
}

export const localeOf = (i: number) => (i % 20 < 9 ? 'uk' : i % 20 < 16 ? 'ru' : 'en');
export const idOf = (i: number) => `ct-${String(i).padStart(4, '0')}`;
export const emailOf = (i: number) => `contact${i}@example.test`;
export const phoneOf = (i: number) => `+38050${String(i).padStart(7, '0')}`;
export const chatOf = (i: number) => String(900_000_000 + i);

export function contactGroups(n: number): Record<Group, number> {
  const out = {
    granted: 0,
    denied: 0,
    unsubscribed: 0,
    erased: 0,
    suppressed: 0,
    capped: 0,
    'near-cap': 0,
    night: 0,
  };
  for (let i = 1; i <= n; i++) out[groupOf(i)]++;
  return out;
}

export async function seedContacts(db: Database, s: ContactSeed): Promise<void> {
  const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
  const now = s.now;
  const day = 86_400_000;
  await db.transaction(async (tx) => {
    const rows: string[] = [];
    for (let i = 1; i <= s.n; i++) {
      const g = groupOf(i);
      const zone = g === 'night' ? (s.nightZone ?? 'Pacific/Auckland') : 'Europe/Kyiv';
      rows.push(
        `('${idOf(i)}', '${emailOf(i)}', '${phoneOf(i)}', 'First${i}', '${localeOf(i)}', '${zone}', ${g === 'erased' ? `TIMESTAMP '${ts(now)}'` : 'NULL'}, TIMESTAMP '${ts(now)}')`,
      );
    }
    for (let k = 0; k < rows.length; k += 500)
      await tx.exec(
        `INSERT INTO customers (external_id, email, phone, first_name, locale, time_zone, erased_at, updated_at) VALUES ${rows.slice(k, k + 500).join(', ')}`,
      );
    await tx.exec(
      `INSERT INTO customer_consents (customer_id, channel, status, changed_at, source)
       SELECT customer_id, ch.channel,
              CASE WHEN CAST(SUBSTR(external_id, 4) AS INTEGER) % 100 < 5 THEN 'denied'
                   WHEN CAST(SUBSTR(external_id, 4) AS INTEGER) % 100 < 10 THEN 'unsubscribed'
                   ELSE 'granted' END,
              TIMESTAMP '${ts(new Date(now.getTime() - 30 * day))}', 'checkout'
       FROM customers, (VALUES ('email'), ('sms'), ('messenger')) AS ch(channel) WHERE external_id LIKE 'ct-%'`,
    );
    await tx.exec(
      `INSERT INTO messenger_chats (customer_id, chat_id, linked_at)
       SELECT customer_id, CAST(900000000 + CAST(SUBSTR(external_id, 4) AS INTEGER) AS TEXT), TIMESTAMP '${ts(now)}'
       FROM customers WHERE external_id LIKE 'ct-%'`,
    );
    await tx.exec(
      `INSERT INTO suppressions (channel, address, reason, source, created_at)
       SELECT x.channel, CASE x.channel WHEN 'email' THEN c.email WHEN 'sms' THEN c.phone
                         ELSE CAST(900000000 + CAST(SUBSTR(c.external_id, 4) AS INTEGER) AS TEXT) END,
              x.reason, 'bounce', TIMESTAMP '${ts(now)}'
       FROM customers c, (VALUES ('email', '550 5.1.1 mailbox unknown'), ('sms', 'invalid number'), ('messenger', 'bot blocked')) AS x(channel, reason)
       WHERE c.external_id LIKE 'ct-%' AND CAST(SUBSTR(c.external_id, 4) AS INTEGER) % 100 IN (12, 13)`,
    );
    // Earlier marketing sends in the cap window: 3 for 'capped' (at the cap of 3 per 7 days), 2 for 'near-cap'.
    for (const [lo, hi, n] of [
      [14, 16, 3],
      [17, 21, 2],
    ] as const)
      for (let j = 0; j < n; j++)
        await tx.exec(
          `INSERT INTO message_sends (send_key, customer_id, channel, kind, source, step, occurrence, template,
             template_version, status, not_before, attempts, created_at, updated_at, sent_at)
           SELECT 'earlier/' || CAST(customer_id AS TEXT) || '/${j}', customer_id, 'email', 'marketing', 'earlier', 'news', '${j}', 'news', 1,
                  'sent', t, 1, t, t, t
           FROM (SELECT customer_id, TIMESTAMP '${ts(new Date(now.getTime() - (j + 1) * day))}' AS t FROM customers
                 WHERE external_id LIKE 'ct-%' AND CAST(SUBSTR(external_id, 4) AS INTEGER) % 100 BETWEEN ${lo} AND ${hi}) x`,
        );
  });
}
