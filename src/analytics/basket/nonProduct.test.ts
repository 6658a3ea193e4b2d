import { describe, expect, it } from 'vitest';
import { detectNonProductLines, nonProductClassifier } from './nonProduct.js';

describe('nonProductClassifier', () => {
  const classify = nonProductClassifier();
  it('flags Online Retail service codes, vouchers and fee titles', () => {
    for (const sku of [
      'POST',
      'DOT',
      'M',
      'm',
      'BANK CHARGES',
      'AMAZONFEE',
      'CRUK',
      'D',
      'S',
      'PADS',
      'C2',
      'B',
    ]) {
      expect(classify(sku), sku).toBe('sku');
    }
    expect(classify('gift_0001_20')).toBe('pattern');
    expect(classify('99999', 'POSTAGE')).toBe('title');
    expect(classify('X1', 'Manual')).toBe('title');
    expect(classify('23444', 'Next Day Carriage')).toBe('title');
    expect(classify('99998', '  DOTCOM   POSTAGE ')).toBe('title');
    expect(classify('22016', 'Dotcomgiftshop Gift Voucher £100.00')).toBe('title');
  });
  it('does not match service words inside product names', () => {
    expect(classify('23099', 'FRENCH CARRIAGE LANTERN')).toBeNull();
    expect(classify('85168B', 'BLACK BAROQUE CARRIAGE CLOCK')).toBeNull();
    expect(classify('99997', 'POSTAGE STAMP TIN')).toBeNull();
    expect(classify('99996', 'MANUAL PENCIL SHARPENER')).toBeNull();
    expect(classify('99995', 'DISCOUNT CARD HOLDER')).toBeNull();
  });
  it('keeps products, including letter-only product codes', () => {
    for (const sku of ['85123A', '22423', 'DCGSSGIRL', 'DCGS0003', '47566B'])
      expect(classify(sku, 'PARTY BUNTING')).toBeNull();
    expect(classify('21506', 'FANCY FONT BIRTHDAY CARD')).toBeNull();
  });
  it('is configurable', () => {
    const custom = nonProductClassifier({ skus: ['SHIP'], patterns: [], ignoreTitles: true });
    expect(custom('SHIP')).toBe('sku');
    expect(custom('POST', 'POSTAGE')).toBeNull();
    expect(nonProductClassifier({ extraSkus: ['WRAP'] })('wrap')).toBe('sku');
  });
});

describe('detectNonProductLines', () => {
  it('reports each non-product SKU with its line count', () => {
    const lines = [
      { sku: 'POST', quantity: 1, unitPriceMinor: 1800, title: 'POSTAGE' },
      { sku: '22423', quantity: 1, unitPriceMinor: 1275 },
      { sku: 'POST', quantity: 2, unitPriceMinor: 1800 },
      { sku: 'gift_0001_10', quantity: 1, unitPriceMinor: 833 },
    ];
    expect(detectNonProductLines(lines)).toEqual([
      { sku: 'POST', reason: 'sku', lines: 2, title: 'POSTAGE' },
      { sku: 'gift_0001_10', reason: 'pattern', lines: 1 },
    ]);
  });
});
