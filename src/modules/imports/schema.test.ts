import { describe, expect, it } from 'vitest';
import { cleanRecord, describeIssues, OrderLineInput, ProductInput } from './schema.js';

describe('import schemas', () => {
  it('refuse negative prices and totals at the field, accept zero', () => {
    const order = OrderLineInput.safeParse(
      cleanRecord({
        order_id: 'A',
        ordered_at: '2024-01-01',
        currency: 'EUR',
        sku: 'x',
        quantity: '1',
        unit_price: '-2.00',
      }),
    );
    expect(order.success).toBe(false);
    expect(describeIssues(order.error!).reason).toBe('field unit_price: must not be negative');
    const product = ProductInput.safeParse(cleanRecord({ sku: 'x', currency: 'EUR', unit_cost: '-1' }));
    expect(product.success).toBe(false);
    expect(describeIssues(product.error!).reason).toBe('field unit_cost: must not be negative');
    expect(ProductInput.safeParse({ sku: 'x', currency: 'EUR', price: '0' }).success).toBe(true);
  });
});
