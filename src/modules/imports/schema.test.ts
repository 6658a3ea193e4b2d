import { describe, expect, it } from 'vitest';
import {
  canonicalEmail,
  CustomerInput,
  customerKey,
  describeIssues,
  OrderLineInput,
  ProductInput,
} from './schema.js';
import { cleanRecord as cleanWith } from './values.js';

const cleanRecord = (values: Record<string, unknown>) => cleanWith(values, []);

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

describe('emails and customer keys', () => {
  const line = (customer_id: string, email: string) =>
    OrderLineInput.parse(
      cleanRecord({
        order_id: 'A',
        customer_id,
        email,
        ordered_at: '2024-01-01',
        currency: 'EUR',
        order_total: '1',
      }),
    );

  it('are one customer whatever the case, spaces or spreadsheet quote', () => {
    for (const raw of ['ann@shop.com', 'Ann@Shop.COM', " 'ann@shop.com ", "'ANN@shop.com"]) {
      expect(canonicalEmail(raw)).toBe('ann@shop.com');
      expect(line(raw, raw)).toMatchObject({ customerId: 'ann@shop.com', email: 'ann@shop.com' });
    }
    const c = CustomerInput.parse(
      cleanRecord({ customer_id: "'C-7", email: " 'Ann@Shop.com", phone: "'+1 212 555 0100" }),
    );
    expect(c).toMatchObject({ customerId: 'C-7', email: 'ann@shop.com', phone: '+1 212 555 0100' });
  });

  it('keep other keys as written (case matters in ids like Shopify handles)', () => {
    expect(customerKey(' AbC-12 ')).toBe('AbC-12');
    expect(customerKey("'00123")).toBe('00123');
    const bad = CustomerInput.safeParse(cleanRecord({ customer_id: 'C', email: "'not-an-email" }));
    expect(describeIssues(bad.error!).reason).toBe('field email: expected an email address');
    expect(CustomerInput.safeParse(cleanRecord({ customer_id: "'" })).success).toBe(false);
  });
});
