import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/support/context.js';
import { freshDatabase, testEngines } from '../../../test/support/storage.js';
import { ManualClock } from '../../kit/clock.js';
import type { Database } from '../../storage/port.js';
import { jobHandlers, moduleSchedules } from '../registry.js';
import { EXPIRE_OPTINS_JOB, expireOptIns } from './optin.js';

describe.each(testEngines())('the daily sweep of unconfirmed double opt-ins on %s', (engine) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const clock = new ManualClock('2026-03-20T03:17:00Z');

  beforeAll(async () => {
    ({ db, dispose } = await freshDatabase(engine));
    const row = (id: string, status: string, expires: string) =>
      db.exec(
        `INSERT INTO consent_requests (request_id, customer_id, channel, source, status, send_key, requested_at, expires_at)
         VALUES ($1, 1, 'email', 'api', $2, $3, $4::timestamp, $5::timestamp)`,
        [id, status, `k-${id}`, new Date(Date.parse(expires) - 7 * 86_400_000), new Date(expires)],
      );
    await row('old', 'pending', '2026-03-19T00:00:00Z');
    await row('fresh', 'pending', '2026-03-25T00:00:00Z');
    await row('done', 'confirmed', '2026-03-10T00:00:00Z');
  });
  afterAll(() => dispose());

  it('marks only pending requests past their expiry, once; the job and its schedule are registered', async () => {
    const ctx = testContext(db, clock);
    expect(await expireOptIns(ctx)).toEqual({ expired: 1 });
    expect(await expireOptIns(ctx)).toEqual({ expired: 0 });
    const rows = await db.query<{ request_id: string; status: string }>(
      `SELECT request_id, status FROM consent_requests ORDER BY request_id`,
    );
    expect(rows).toEqual([
      { request_id: 'done', status: 'confirmed' },
      { request_id: 'fresh', status: 'pending' },
      { request_id: 'old', status: 'expired' },
    ]);
    expect(Object.keys(await jobHandlers())).toContain(EXPIRE_OPTINS_JOB);
    expect((await moduleSchedules()).map((s) => s.name)).toContain('messaging.expire-opt-ins');
  });
});
