import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { evaluateRecommenders, rankingMetrics } from './evaluate.js';
import { Recommender } from './recommend.js';
import type { Basket } from './types.js';

const day = (d: number) => new Date(Date.UTC(2024, 0, d));
let n = 0;
const order = (customerId: string, d: number, ...skus: string[]): Basket => ({
  orderId: String(++n).padStart(4, '0'),
  customerId,
  orderedAt: day(d),
  items: skus.map((sku) => ({ sku, quantity: 1, unitPriceMinor: 100, title: sku.toLowerCase() })),
});

// COFFEE is re-bought by most buyers (a repeat item); GRINDER never is; FILTER goes with GRINDER.
const baskets: Basket[] = [
  order('1', 1, 'COFFEE', 'GRINDER'),
  order('1', 30, 'COFFEE', 'FILTER'),
  order('2', 1, 'COFFEE', 'GRINDER', 'FILTER'),
  order('2', 20, 'COFFEE'),
  order('3', 2, 'GRINDER', 'FILTER', 'POST'),
  order('4', 3, 'TEA'),
  order('4', 9, 'TEA', 'MUG'),
  order('5', 4, 'GRINDER'),
];

describe('Recommender', () => {
  const model = new Recommender(baskets, [], { minRepeatRate: 0.5, minCoOrders: 1 });

  it('offers repeat items again, never non-repeat ones, and explains item-item picks', () => {
    const recs = model.recommend('5', { n: 3 });
    expect(recs.map((r) => r.sku)).not.toContain('GRINDER'); // bought, not a repeat item
    expect(recs[0]!.sku).toBe('FILTER');
    expect(recs[0]!.becauseOf).toBe('GRINDER');
    expect(recs[0]!.reasons[0]).toBe('because you bought grinder (GRINDER)');
    const mine = model.recommend('1', { n: 2 });
    expect(mine[0]!.sku).toBe('COFFEE');
    expect(mine[0]!.reasons[0]).toMatch(/you bought it 2 times, last on 2024-01-30/);
    expect(model.skus).not.toContain('POST');
  });

  it('decays older purchases (half-life)', () => {
    const m = new Recommender(
      [order('9', 1, 'OLD'), order('9', 100, 'NEW'), order('8', 1, 'OLD'), order('8', 2, 'OLD')],
      [],
      {
        halfLifeDays: 10,
        minRepeatRate: 0,
      },
    );
    expect(m.recommend('9', { n: 2, method: 'personal' }).map((r) => r.sku)).toEqual(['NEW', 'OLD']);
  });

  it('fails clearly for an unknown customer', () => {
    expect(() => model.recommend('nobody')).toThrow(AppError);
  });
});

describe('evaluation', () => {
  it('computes Recall, NDCG and hit rate (hand-checked)', () => {
    // Hits at ranks 1 and 3 of 2 targets... plus one miss: recall 2/3,
    // DCG = 1 + 1/log2(4) = 1.5, IDCG = 1 + 1/log2(3) + 1/log2(4) = 2.1309.
    const m = rankingMetrics([7, 1, 8, 2], new Set([7, 8, 9]), 10);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.ndcg).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3) + 0.5), 12);
    expect(m.phr).toBe(1);
    expect(rankingMetrics([1, 2], new Set([3]), 10)).toEqual({ recall: 0, ndcg: 0, phr: 0 });
  });

  it('holds out each customer’s last basket', () => {
    const report = evaluateRecommenders(baskets, [], { k: 2, minRepeatRate: 0.5, minCoOrders: 1 });
    expect(report.customers).toBe(3); // customers 1, 2, 4; 3 and 5 have one order
    expect(report.skipped).toBe(2);
    expect(report.heldOutProducts).toBe(2 + 1 + 2);
    for (const m of Object.values(report.methods)) {
      for (const v of [m.recall, m.ndcg, m.phr]) expect(v).toBeGreaterThanOrEqual(0);
    }
    // Customer 2's held-out COFFEE is a repeat item they bought: personal ranks it first.
    expect(report.methods.personal.phr).toBeGreaterThan(0);
  });
});
