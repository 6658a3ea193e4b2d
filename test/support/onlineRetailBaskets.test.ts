import { describe, expect, it } from 'vitest';
import { describeWithData } from './externalData.js';
import { loadOnlineRetail, onlineRetailPath, splitCsvLine } from './onlineRetailBaskets.js';

describe('splitCsvLine', () => {
  it('handles quotes, embedded commas and doubled quotes', () => {
    expect(splitCsvLine('1,"A, B",3')).toEqual(['1', 'A, B', '3']);
    expect(splitCsvLine('536477,22041,"RECORD FRAME 7"" SINGLE SIZE ",48')).toEqual([
      '536477',
      '22041',
      'RECORD FRAME 7" SINGLE SIZE ',
      '48',
    ]);
  });
});

describeWithData(onlineRetailPath())('loadOnlineRetail', () => {
  it('keeps customer invoices with positive quantity and price', () => {
    const { baskets, products } = loadOnlineRetail();
    // Sub-penny prices (PADS at 0.001) round to 0 minor units.
    // Counts of the shipped file (541,909 lines): 18,532 invoices of 4,338 customers after filtering,
    // the figure commonly reported for this data set.
    expect(baskets.length).toBe(18532);
    expect(new Set(baskets.map((b) => b.customerId)).size).toBe(4338);
    expect(
      baskets.every(
        (b) => !/^[CA]/.test(b.orderId) && b.items.every((l) => l.quantity > 0 && l.unitPriceMinor >= 0),
      ),
    ).toBe(true);
    expect(baskets[0]!.customerId).toBe('17850');
    expect(baskets[0]!.orderedAt.toISOString()).toBe('2010-12-01T08:26:00.000Z');
    expect(products.find((p) => p.sku === '85123A')?.category).toBe('HOLDER');
  });
});
