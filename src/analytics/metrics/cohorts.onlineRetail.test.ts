import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { describeWithData } from '../../../test/support/externalData.js';
import { onlineRetailPath } from '../../../test/support/onlineRetailBaskets.js';
import { cohortReport } from './cohorts.js';
import type { OrderFact } from './types.js';

// The UCI Online Retail file shipped in data/.
const file = onlineRetailPath();

/** Splits one CSV line (RFC 4180 quotes, no embedded newlines in this file). */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** qty × price in pence, round half up, in integer arithmetic (price is a decimal string). */
function linePence(qty: number, price: string): number {
  const [whole, frac = ''] = price.split('.');
  const scale = 10 ** frac.length;
  const scaled = qty * (Number(whole) * scale + (frac ? Number(frac) : 0)) * 100; // exact: pence × scale
  return Math.floor((scaled + scale / 2) / scale);
}

interface Row {
  invoice: string;
  customer: string;
  date: string; // 'YYYY-MM-DD HH:MM:SS', UTC
  pence: number;
}

function readRows(): Row[] {
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const lines = text.split(/\r?\n/);
  expect(lines[0]).toBe('InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country');
  const rows: Row[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const [invoice, , , qtyS, date, price, customerRaw] = splitCsv(line);
    if (!invoice || !customerRaw || invoice.startsWith('C') || invoice.startsWith('A')) continue;
    const qty = Number(qtyS);
    if (!(qty > 0) || !(Number(price) > 0)) continue;
    rows.push({
      invoice,
      customer: customerRaw.replace(/\.0$/, ''),
      date: date!,
      pence: linePence(qty, price!),
    });
  }
  return rows;
}

describeWithData(file)('cohorts on the Online Retail data', () => {
  it('matches a naive computation over raw rows for every cohort', () => {
    const rows = readRows();

    // --- system under test: order facts → cohortReport
    const orders = new Map<string, OrderFact>();
    for (const r of rows) {
      const o = orders.get(r.invoice);
      if (o) o.revenueMinor += r.pence;
      else
        orders.set(r.invoice, {
          customerId: r.customer,
          orderedAt: new Date(`${r.date.replace(' ', 'T')}Z`),
          revenueMinor: r.pence,
          costMinor: null,
          refundMinor: 0,
        });
    }
    expect(new Set(rows.map((r) => r.customer)).size).toBe(4338);
    expect(orders.size).toBe(18532);
    const report = cohortReport({ orders: [...orders.values()], asOf: new Date('2011-12-10T00:00:00Z') });

    // --- naive: months as 'YYYY-MM' strings straight from the raw rows
    const monthsOf = new Map<string, Set<string>>();
    const pence = new Map<string, Map<string, number>>(); // customer → month → pence
    for (const r of rows) {
      const m = r.date.slice(0, 7);
      let s = monthsOf.get(r.customer);
      if (!s) monthsOf.set(r.customer, (s = new Set()));
      s.add(m);
      let p = pence.get(r.customer);
      if (!p) pence.set(r.customer, (p = new Map()));
      p.set(m, (p.get(m) ?? 0) + r.pence);
    }
    const monthNo = (m: string) => Number(m.slice(0, 4)) * 12 + Number(m.slice(5, 7)) - 1;
    const lastMonth = monthNo('2011-12');
    const naive = new Map<string, { size: number; active: number[]; revenue: number[] }>();
    for (const [customer, months] of monthsOf) {
      const cohort = [...months].sort()[0]!;
      const n = lastMonth - monthNo(cohort) + 1;
      let c = naive.get(cohort);
      if (!c) naive.set(cohort, (c = { size: 0, active: Array(n).fill(0), revenue: Array(n).fill(0) }));
      c.size++;
      for (const m of months) c.active[monthNo(m) - monthNo(cohort)]! += 1;
      for (const [m, v] of pence.get(customer)!) c.revenue[monthNo(m) - monthNo(cohort)]! += v;
    }

    expect(report.cohorts.map((c) => c.cohort)).toEqual([...naive.keys()].sort());
    expect(report.cohorts).toHaveLength(13); // 2010-12 … 2011-12
    for (const c of report.cohorts) {
      const n = naive.get(c.cohort)!;
      expect(c.size, c.cohort).toBe(n.size);
      expect(c.activeCustomers, c.cohort).toEqual(n.active);
      // Same division on both sides: exact equality is expected.
      expect(c.retention, c.cohort).toEqual(n.active.map((a) => a / n.size));
      let cum = 0;
      n.revenue.forEach((v, k) => {
        cum += v;
        // Per-customer averages of integer pence: relative error of one division only.
        expect(c.cumulativeRevenuePerCustomer[k]! * n.size, `${c.cohort} k=${k}`).toBeCloseTo(cum, 6);
      });
    }
    const first = report.cohorts[0]!;
    // 885 is also the December-2010 cohort size commonly published for this cleaned data set.
    expect(first).toMatchObject({ cohort: '2010-12', size: 885 });
  });
});
