import { describe, expect, it } from 'vitest';
import { describeIgnored, genericFields, resolveColumns } from './columns.js';

describe('generic header columns', () => {
  it('lists each entity’s fields from its schema', () => {
    expect(genericFields('orders')).toEqual(
      expect.arrayContaining(['order_id', 'ordered_at', 'email', 'sku']),
    );
    expect(genericFields('customers')).toEqual(expect.arrayContaining(['customer_id', 'email_consent']));
  });

  it('reads case and spacing variants as their field, reports the rest with the nearest name', () => {
    const r = resolveColumns(
      'orders',
      ['Order ID', 'Ordered_At', 'Email', 'SKU', 'emial', 'Colour', 'unit-price', 'Qty', 'currency'],
      { Qty: 'quantity' },
    );
    expect(r.map).toEqual({
      Qty: 'quantity',
      'Order ID': 'order_id',
      Ordered_At: 'ordered_at',
      Email: 'email',
      SKU: 'sku',
      'unit-price': 'unit_price',
    });
    expect(r.report.renamed).toEqual({
      'Order ID': 'order_id',
      Ordered_At: 'ordered_at',
      Email: 'email',
      SKU: 'sku',
      'unit-price': 'unit_price',
    });
    expect(r.report.ignored).toEqual([{ column: 'emial' }, { column: 'Colour' }]);
    expect(describeIgnored(r.report)).toBe(
      'ignored columns (not a field; --map col=field reads one): emial, Colour',
    );
  });

  it('suggests a near field that no column supplies, and never renames onto a field already present', () => {
    const r = resolveColumns('customers', ['customer_id', 'emial', 'Customer ID', 'contry']);
    expect(r.map).toEqual({});
    expect(r.report.ignored).toEqual([
      { column: 'emial', didYouMean: 'email' },
      { column: 'Customer ID' },
      { column: 'contry', didYouMean: 'country' },
    ]);
  });
});
