import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../storage/port.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ONLINE_RETAIL, ONLINE_RETAIL_REPORT } from '../../../test/support/onlineRetailImport.js';
import type { DomainEventType } from '../../kit/events.js';
import { importFile } from '../imports/service.js';
import * as repo from './repository.js';
import { testContext } from '../../../test/support/context.js';
import { ManualClock, systemClock } from '../../kit/clock.js';

const dir = mkdtempSync(join(tmpdir(), 'retain-outbox-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const countByType = async (db: Database) =>
  Object.fromEntries(
    (
      await db.query<{ type: string; n: number }>(
        `SELECT type, COUNT(*) AS n FROM domain_events GROUP BY type ORDER BY type`,
      )
    ).map((r) => [r.type, r.n]),
  );

describe.each(testEngines())('domain events of file imports on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  it('Online Retail: one order.placed per stored order, one order.refunded per stored refund', async () => {
    const now = new Date('2024-06-01T00:00:00Z');
    const r = await importFile(testContext(db, new ManualClock(now)), {
      entity: 'orders',
      file: ONLINE_RETAIL,
      preset: 'online-retail',
    });
    expect(r).toMatchObject(ONLINE_RETAIL_REPORT);
    // Orders: same count, same ids, same customers, amounts and business times.
    const [orders] = await db.query<{ stored: number; events: number; matched: number }>(
      `SELECT (SELECT COUNT(*) FROM orders) AS stored,
              (SELECT COUNT(*) FROM domain_events WHERE type = 'order.placed') AS events,
              (SELECT COUNT(*) FROM orders o JOIN domain_events e
                 ON e.type = 'order.placed' AND e.ref_id = o.order_id
                WHERE e.ref = o.external_id
                  AND e.customer_id IS NOT DISTINCT FROM o.customer_id
                  AND e.amount_minor = o.total_minor
                  AND e.currency = o.currency
                  AND e.occurred_at = o.ordered_at AND e.recorded_at = o.imported_at) AS matched`,
    );
    expect(orders).toEqual({ stored: 19959, events: 19959, matched: 19959 });
    const [refunds] = await db.query<{ stored: number; events: number; matched: number }>(
      `SELECT (SELECT COUNT(*) FROM refunds) AS stored,
              (SELECT COUNT(*) FROM domain_events WHERE type = 'order.refunded') AS events,
              (SELECT COUNT(*) FROM refunds r JOIN domain_events e
                 ON e.type = 'order.refunded' AND e.ref_id = r.refund_id
                WHERE e.ref = r.external_id
                  AND e.customer_id IS NOT DISTINCT FROM r.customer_id
                  AND e.amount_minor = r.amount_minor AND e.currency = r.currency
                  AND e.parent_id IS NOT DISTINCT FROM r.order_id
                  AND e.occurred_at = r.refunded_at) AS matched`,
    );
    expect(refunds).toEqual({ stored: 3654, events: 3654, matched: 3654 });
    // Every id once (the sequence), customers created by the import recorded too.
    const [ids] = await db.query<{ n: number; distinct_ids: number; customers: number; created: number }>(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS distinct_ids,
              (SELECT COUNT(*) FROM customers) AS customers,
              COUNT(*) FILTER (WHERE type = 'customer.created') AS created FROM domain_events`,
    );
    expect(ids?.n).toBe(ids?.distinct_ids);
    expect(ids?.created).toBe(ids?.customers);
  }, 180_000);

  it('re-importing Online Retail records nothing', async () => {
    const before = await countByType(db);
    const r = await importFile(testContext(db, systemClock), {
      entity: 'orders',
      file: ONLINE_RETAIL,
      preset: 'online-retail',
    });
    expect(r).toMatchObject({ inserted: 0, refunds: { inserted: 0 } });
    expect(await countByType(db)).toEqual(before);
  }, 180_000);
});

describe.each(testEngines())('customer and site-event imports on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
  });
  afterAll(async () => dispose());

  const events = (type: DomainEventType) => repo.eventsAfter(db, { after: 0, types: [type], limit: 1000 });

  it('records customer.created, customer.updated and consent.changed only for real changes', async () => {
    const v1 = `customer_id,email,first_name,email_consent,email_consent_at
c1,ann@example.com,Ann,granted,2024-01-02T00:00:00Z
c2,bob@example.com,Bob,,
`;
    await importFile(testContext(db, systemClock), { entity: 'customers', file: file('c1.csv', v1) });
    expect(await countByType(db)).toEqual({ 'consent.changed': 1, 'customer.created': 2 });
    const [consent] = await events('consent.changed');
    expect(consent!.payload).toEqual({
      external_id: 'c1',
      channel: 'email',
      from: null,
      to: 'granted',
    });
    expect(consent!.occurred_at).toBe('2024-01-02T00:00:00.000Z');
    // The same file again: nothing.
    await importFile(testContext(db, systemClock), { entity: 'customers', file: file('c1b.csv', v1) });
    expect(await countByType(db)).toEqual({ 'consent.changed': 1, 'customer.created': 2 });
    // c1 changes consent only, c2 changes a field.
    const v2 = `customer_id,email,first_name,email_consent,email_consent_at
c1,ann@example.com,Ann,unsubscribed,2024-02-01T00:00:00Z
c2,bob@example.com,Robert,,
`;
    await importFile(testContext(db, systemClock), { entity: 'customers', file: file('c2.csv', v2) });
    expect(await countByType(db)).toEqual({
      'consent.changed': 2,
      'customer.created': 2,
      'customer.updated': 1,
    });
    const [, changed] = await events('consent.changed');
    expect(changed!.payload).toMatchObject({ from: 'granted', to: 'unsubscribed' });
    const [updated] = await events('customer.updated');
    expect(updated!.payload).toEqual({ external_id: 'c2' });
  });

  it('records event.tracked with the site event type, once', async () => {
    const ev = `event_id,customer_id,anonymous_id,type,occurred_at
e1,c1,,checkout_started,2024-03-01T10:00:00Z
e2,,anon-9,page_view,2024-03-01T10:01:00Z
`;
    await importFile(testContext(db, systemClock), { entity: 'events', file: file('e.csv', ev) });
    await importFile(testContext(db, systemClock), { entity: 'events', file: file('e2.csv', ev) });
    const tracked = await events('event.tracked');
    expect(tracked.map((e) => e.payload)).toEqual([
      { event_id: 'e1', event_type: 'checkout_started' },
      { event_id: 'e2', event_type: 'page_view' },
    ]);
    expect(tracked[0]?.customer_id).not.toBeNull();
    expect(tracked[1]?.customer_id).toBeNull();
  });
});
