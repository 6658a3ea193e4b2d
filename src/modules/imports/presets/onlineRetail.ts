import { lineTotalMinor, parseDecimal } from '../../../shared/money.js';
import type { Mapped, Preset } from './types.js';
import { monthFirstDate, str } from './types.js';

const COLUMNS = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
];

/** `17850.0` → `17850` (the export writes ids as floats). */
function customerId(v: unknown): string {
  const s = str(v);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}

/**
 * The UCI Online Retail export (docs/import-formats.md#online-retail):
 * - an order is an invoice not starting with C or A; lines with Quantity > 0 and UnitPrice > 0 are kept
 *   (an invoice left with no lines is not an order);
 * - C invoices with a CustomerID are refunds for that customer, amount Σ|Quantity|×UnitPrice;
 * - rows without a CustomerID are guest orders: stored without a customer, counted, never attached;
 * - InvoiceDate is ISO or, as in the original workbook, month-first (`12/1/2010 8:26`);
 * - money is GBP pence; a line total is |qty|×price rounded once (half away from zero).
 */
export const onlineRetailPreset: Preset = {
  name: 'online-retail',
  description: 'UCI Online Retail export (InvoiceNo, StockCode, …, CustomerID, Country)',
  entities: ['orders'],
  independentRows: true,
  expectedColumns: () => COLUMNS,
  columnFields: () => ({
    InvoiceNo: 'order_id',
    StockCode: 'sku',
    Description: 'title',
    Quantity: 'quantity',
    InvoiceDate: 'ordered_at',
    UnitPrice: 'unit_price',
    CustomerID: 'customer_id',
    Country: 'country',
  }),
  detect: (entity, columns) => entity === 'orders' && COLUMNS.every((c) => columns.includes(c)),
  createMapper: (_entity, opts) => (v) => {
    const invoice = str(v.InvoiceNo);
    const customer = customerId(v.CustomerID);
    const first = invoice[0]?.toUpperCase();
    if (first === 'A') return [{ kind: 'skip', reason: 'bad-debt adjustment invoice (A…)' }];
    if (first === 'C') {
      if (!customer) return [{ kind: 'skip', reason: 'guest cancellation (C… without CustomerID)' }];
      const qty = Number(str(v.Quantity));
      const price = parseDecimal(str(v.UnitPrice));
      if (!/^-?\d+$/.test(str(v.Quantity)) || !Number.isSafeInteger(qty))
        return [
          {
            kind: 'reject',
            field: 'Quantity',
            reason: `field Quantity: expected a whole number, got '${str(v.Quantity)}'`,
          },
        ];
      if (!price)
        return [
          {
            kind: 'reject',
            field: 'UnitPrice',
            reason: `field UnitPrice: expected an amount like 2.55, got '${str(v.UnitPrice)}'`,
          },
        ];
      const amount = lineTotalMinor(Math.abs(qty), price) as number;
      const out: Mapped = {
        kind: 'row',
        entity: 'refunds',
        values: {
          refund_id: invoice,
          customer_id: customer,
          // Σ|qty|×price: each line's amount in pence, summed per invoice by the importer.
          amount: (amount / 100).toFixed(2),
          currency: 'GBP',
          refunded_at: monthFirstDate(v.InvoiceDate, opts.format),
          reason: 'cancellation',
        },
      };
      return [out];
    }
    const qty = str(v.Quantity);
    const price = str(v.UnitPrice);
    // Rule filters apply only to well-formed numbers; malformed ones go on to validation and are rejected.
    if (/^-?\d+$/.test(qty) && Number(qty) <= 0)
      return [{ kind: 'skip', reason: 'Quantity <= 0 on a sales invoice' }];
    const p = parseDecimal(price);
    if (p && p.units <= 0n) return [{ kind: 'skip', reason: 'UnitPrice <= 0' }];
    return [
      {
        kind: 'row',
        entity: 'orders',
        values: {
          order_id: invoice,
          customer_id: customer,
          ordered_at: monthFirstDate(v.InvoiceDate, opts.format),
          currency: 'GBP',
          sku: v.StockCode,
          title: v.Description,
          quantity: qty,
          unit_price: price,
          country: v.Country,
        },
      },
    ];
  },
};
