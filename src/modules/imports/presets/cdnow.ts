import type { Preset } from './types.js';
import { str } from './types.js';

const MASTER = ['customer_id', 'date', 'number_of_cds', 'dollar_value'];
const SAMPLE = ['customer_id', 'sample_id', 'date', 'number_of_cds', 'dollar_value'];

/**
 * CDNOW (Fader, Hardie & Lee 2005): whitespace-separated `customer date(YYYYMMDD) cds dollars`
 * (`CDNOW_master.txt`) or `master_id sample_id date cds dollars` (`CDNOW_sample.txt`). One order per
 * row; the customer is the master id, so the sample and the master file agree. The order id is
 * `customer-date-k` (k-th row of that customer on that day), stable across both files.
 */
export const cdnowPreset: Preset = {
  name: 'cdnow',
  description: 'CDNOW_master.txt / CDNOW_sample.txt (whitespace-separated, USD)',
  entities: ['orders'],
  expectedColumns: () => MASTER,
  columnFields: () => ({
    customer_id: 'customer_id',
    date: 'ordered_at',
    number_of_cds: 'quantity',
    dollar_value: 'line_total',
  }),
  detect: (entity, _columns, firstLine) => {
    const fields = firstLine.trim().split(/\s+/);
    if (entity !== 'orders') return false;
    if (fields.join(',') === MASTER.join(',')) return true;
    return (
      (fields.length === 4 || fields.length === 5) &&
      fields.every((f) => /^\d+(\.\d+)?$/.test(f)) &&
      /^(19|20)\d{6}$/.test(fields[fields.length - 3] ?? '')
    );
  },
  source: (firstLine) => {
    const fields = firstLine.trim().split(/\s+/);
    const hasHeader = !/^\d/.test(fields[0] ?? '');
    return hasHeader
      ? { whitespace: true }
      : { whitespace: true, csvHeader: fields.length === 5 ? SAMPLE : MASTER };
  },
  createMapper: () => {
    const seen = new Map<string, number>();
    return (v) => {
      const customer = str(v.customer_id).replace(/^0+(?=\d)/, '');
      const date = str(v.date);
      const key = `${customer}-${date}`;
      const k = (seen.get(key) ?? 0) + 1;
      seen.set(key, k);
      const m = /^(\d{4})(\d{2})(\d{2})$/.exec(date);
      return [
        {
          kind: 'row',
          entity: 'orders',
          values: {
            order_id: `${key}-${k}`,
            customer_id: customer,
            ordered_at: m ? `${m[1]}-${m[2]}-${m[3]}` : date,
            currency: 'USD',
            title: 'CD',
            quantity: v.number_of_cds,
            line_total: v.dollar_value,
          },
        },
      ];
    };
  },
};
