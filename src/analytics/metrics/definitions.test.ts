import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { channelsReport } from './channels.js';
import { cohortReport } from './cohorts.js';
import { decomposeRevenuePerCustomer } from './decomposition.js';
import { buildDigest } from './digest.js';
import { ltvReport } from './ltv.js';
import { retentionReport } from './retention.js';
import { rfmReport } from './rfm.js';
import { summarize } from './summary.js';
import { order } from '../../../test/support/metricsKit.js';

const docs = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
const anchors = new Set([...docs.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]!));

/** Every string under a `definition` key or inside a `definitions` map, anywhere in a report. */
function definitionsIn(x: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(x)) for (const v of x) definitionsIn(v, out);
  else if (x && typeof x === 'object' && !(x instanceof Date)) {
    for (const [k, v] of Object.entries(x)) {
      if (k === 'definition' && typeof v === 'string') out.add(v);
      else if (k === 'definitions' && v && typeof v === 'object')
        for (const d of Object.values(v)) out.add(String(d));
      else definitionsIn(v, out);
    }
  }
  return out;
}

describe('definitions', () => {
  it('every definition a report names is an anchor in docs/metrics.md', () => {
    const asOf = new Date('2024-03-01T00:00Z');
    const orders = [
      order('A', '2024-01-10T00:00Z', 100, 10, 0, 'x'),
      order('A', '2024-02-10T00:00Z', 100, 10, 0, 'x'),
      order('B', '2024-02-11T00:00Z', 100, 10, 0, 'y'),
    ];
    const profiles = [{ customerId: 'A', channel: 'ads', country: 'GB' }];
    const spend = [{ date: new Date('2024-01-01T00:00Z'), channel: 'ads', amountMinor: 50 }];
    const reports = [
      summarize({ customers: [], guestOrders: 0, asOf }),
      ltvReport({ orders, profiles, spend, asOf, predicted: { model: 'm', overallMinor: 1 } }),
      retentionReport({ orders, asOf }),
      cohortReport({ orders, asOf, spend }),
      rfmReport({ orders, asOf }),
      channelsReport({ orders, profiles, spend, asOf }),
      decomposeRevenuePerCustomer({
        orders,
        profiles,
        asOf,
        base: { from: new Date('2024-01-01T00:00Z'), to: new Date('2024-02-01T00:00Z') },
        current: { from: new Date('2024-02-01T00:00Z'), to: asOf },
      }),
      buildDigest({ orders, profiles, month: '2024-02', asOf }),
    ];
    const used = new Set<string>();
    for (const r of reports) definitionsIn(r, used);
    expect(used.size).toBeGreaterThan(30);
    const missing = [...used].filter((d) => !anchors.has(d));
    expect(missing).toEqual([]);
  });
});
