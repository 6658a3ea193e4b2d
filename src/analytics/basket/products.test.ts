import { describe, expect, it } from 'vitest';
import {
  frequentlyBoughtTogether,
  nextProductAfterFirst,
  productIndex,
  suggestBundles,
  upsellCandidates,
} from './products.js';
import type { Basket, Product } from './types.js';

const day = (d: number) => new Date(Date.UTC(2024, 0, d));
let orderNo = 0;
const order = (customerId: string, d: number, ...skus: string[]): Basket => ({
  orderId: String(++orderNo),
  customerId,
  orderedAt: day(d),
  items: skus.map((sku) => ({ sku, quantity: 1, unitPriceMinor: 100 })),
});

const products: Product[] = [
  { sku: 'TP', title: 'Teapot', category: 'TEA', priceMinor: 1000, unitCostMinor: 600 },
  { sku: 'CU', title: 'Cups', category: 'TEA', priceMinor: 1000, unitCostMinor: 600 },
  { sku: 'CA', title: 'Candle', category: 'HOME', priceMinor: 500 },
  { sku: 'MUG1', title: 'Small mug', category: 'MUG', priceMinor: 300, unitCostMinor: 100 },
  { sku: 'MUG2', title: 'Big mug', category: 'MUG', priceMinor: 600, unitCostMinor: 200 },
];

describe('frequentlyBoughtTogether', () => {
  it('ranks companions by confidence with lift', () => {
    const baskets = [
      order('1', 1, 'TP', 'CU'),
      order('2', 1, 'TP', 'CU'),
      order('3', 1, 'TP', 'CU', 'POST'),
      order('4', 1, 'TP', 'CA'),
      order('5', 1, 'CA'),
    ];
    const fbt = frequentlyBoughtTogether(productIndex(baskets, products), { minCount: 1, sku: 'TP' });
    expect(fbt).toHaveLength(1);
    expect(fbt[0]!.orders).toBe(4);
    // TP in 4 of 5 orders, CU in 3, both in 3: confidence 3/4, lift (3·5)/(4·3) = 1.25; POST excluded as a non-product line.
    expect(fbt[0]!.together.map((c) => [c.sku, c.orders, c.confidence, c.lift])).toEqual([
      ['CU', 3, 0.75, 1.25],
      ['CA', 1, 0.25, 0.625],
    ]);
  });
});

describe('suggestBundles', () => {
  it('computes combined margin and the discount that keeps the target margin', () => {
    const baskets = [
      order('1', 1, 'TP', 'CU'),
      order('2', 1, 'TP', 'CU'),
      order('3', 1, 'CA'),
      order('4', 1, 'MUG1'),
    ];
    const [bundle] = suggestBundles(productIndex(baskets, products), {
      minSupport: 0.5,
      minLift: 1,
      targetMargin: 0.3,
      maxDiscount: 0.15,
    });
    // price 2000, cost 1200, margin 0.4; d ≤ 1 − 1200/(0.7·2000) = 0.142857 → 14 %, price 1720,
    // margin after (1720 − 1200)/1720 = 0.3023 ≥ 0.3. Lift = 0.5/(0.5·0.5) = 2, excess = 2 − 4·0.25 = 1.
    expect(bundle).toMatchObject({
      skus: ['TP', 'CU'],
      orders: 2,
      lift: 2,
      excessOrders: 1,
      priceMinor: 2000,
      costMinor: 1200,
    });
    expect(bundle!.margin).toBeCloseTo(0.4, 12);
    expect(bundle!.suggestedDiscount).toBe(0.14);
    expect(bundle!.bundlePriceMinor).toBe(1720);
    expect(bundle!.marginAfterDiscount!).toBeGreaterThanOrEqual(0.3);
  });

  it('reports unknown margin without costs, or uses an assumed cost ratio', () => {
    const baskets = [
      order('1', 1, 'TP', 'CA'),
      order('2', 1, 'TP', 'CA'),
      order('3', 1, 'CU'),
      order('4', 1, 'MUG1'),
    ];
    const index = productIndex(baskets, products);
    expect(suggestBundles(index, { minSupport: 0.5, minLift: 1 })[0]).toMatchObject({
      margin: null,
      suggestedDiscount: null,
    });
    const assumed = suggestBundles(index, {
      minSupport: 0.5,
      minLift: 1,
      costRatio: 0.8,
      targetMargin: 0.3,
    })[0]!;
    // cost 600 + 400 = 1000 of price 1500: margin 1/3; d ≤ 1 − 1000/(0.7·1500) = 0.0476 → 4 %.
    expect(assumed.suggestedDiscount).toBe(0.04);
    const tight = suggestBundles(index, {
      minSupport: 0.5,
      minLift: 1,
      costRatio: 0.8,
      targetMargin: 0.4,
    })[0]!;
    expect(tight.suggestedDiscount).toBe(0); // already below target: never discount
  });
});

describe('upsellCandidates and nextProductAfterFirst', () => {
  const baskets = [
    order('1', 1, 'MUG1', 'TP'),
    order('1', 5, 'MUG2'),
    order('2', 1, 'MUG1'),
    order('2', 9, 'MUG2', 'CA'),
    order('3', 1, 'MUG1'),
    order('3', 2, 'CA'),
    order('4', 3, 'MUG2', 'MUG1'), // same order: not a move
    order('5', 1, 'TP'),
  ];
  const index = productIndex(baskets, products);

  it('finds pricier same-category products bought later', () => {
    const up = upsellCandidates(index, { minCustomers: 1 });
    expect(up).toEqual([
      {
        category: 'MUG',
        fromSku: 'MUG1',
        fromTitle: 'Small mug',
        fromPriceMinor: 300,
        toSku: 'MUG2',
        toTitle: 'Big mug',
        toPriceMinor: 600,
        customers: 2,
        rate: 0.5,
        priceUplift: 1,
      },
    ]);
    expect(upsellCandidates(index, { minCustomers: 3 })).toEqual([]);
  });

  it('groups second purchases by the first order’s main category', () => {
    const next = nextProductAfterFirst(index);
    const mug = next.find((g) => g.firstCategory === 'MUG')!;
    // Customers 2, 3 start with MUG (customer 1's first order is led by the teapot, 4 by MUG2).
    expect(mug).toMatchObject({ customers: 3, repeaters: 2, repeatRate: 2 / 3 });
    expect(mug.next.map((n) => [n.sku, n.customers])).toEqual([
      ['CA', 2],
      ['MUG2', 1],
    ]);
    expect(next.find((g) => g.firstCategory === 'TEA')).toMatchObject({ customers: 2, repeaters: 1 });
  });
});
