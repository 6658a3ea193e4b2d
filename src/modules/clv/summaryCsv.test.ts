import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { parseSummaryCsv, readSummaryCsv } from './summaryCsv.js';

const parse = (text: string, ids = true) => parseSummaryCsv(Buffer.from(text, 'utf8'), 'in.csv', { ids });
const errorOf = (text: string): AppError => {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an error');
};

describe('summary CSV reader', () => {
  it('reads the lifetimes header (ID) with exact decimals, CRLF and a trailing blank line', () => {
    const s = parse('ID,frequency,recency,T\r\n1,2,30.43,38.86\r\n2,0,0,38.86\r\n\r\n');
    expect(s.rows).toBe(2);
    expect(s.ids).toEqual(['1', '2']);
    expect([...s.recency]).toEqual([30.43, 0]); // identical to Number('30.43')
    expect([...s.T]).toEqual([38.86, 38.86]);
    expect(s.monetaryValue).toBeNull();
  });
  it('accepts any column order, monetary_value, exponents and quoted ids', () => {
    const s = parse('frequency,customer_id,T,recency,monetary_value\n1,a,2e1,5,12.5\n');
    expect([s.frequency[0], s.T[0], s.recency[0], s.monetaryValue![0]]).toEqual([1, 20, 5, 12.5]);
    // Counted on the pass, fast and schema-parsed lines alike (the sufficiency check reads them).
    expect(parse('customer_id,frequency,recency,T\n1,2,3,4\n2,0,0,9\n3,1,2e0,7\n').stats).toEqual({
      customers: 3,
      repeatBuyers: 2,
      maxT: 9,
    });
    const q = parse('customer_id,frequency,recency,T\n"x,1",0,0,3\n');
    expect(q.ids).toEqual(['x,1']);
  });
  it.each([
    ['negative values', 'customer_id,frequency,recency,T\n1,1,-2,5\n', 2, 'recency', /≥ 0/],
    ['recency > T', 'customer_id,frequency,recency,T\n1,1,2,3\n2,1,6,5\n', 3, 'recency', /exceeds T/],
    ['frequency 0 with recency > 0', 'customer_id,frequency,recency,T\n1,0,2,5\n', 2, 'recency', /must be 0/],
    ['non-numeric cell', 'customer_id,frequency,recency,T\n1,two,2,5\n', 2, 'frequency', /must be a number/],
    ['fractional frequency', 'customer_id,frequency,recency,T\n1,1.5,2,5\n', 2, 'frequency', /whole number/],
    ['missing cells', 'customer_id,frequency,recency,T\n1,1,2\n', 2, undefined, /expected 4 cells/],
    [
      'zero spend for a repeat buyer',
      'customer_id,frequency,recency,T,monetary_value\n1,1,2,5,0\n',
      2,
      'monetary_value',
      /> 0/,
    ],
  ])('rejects %s with file:line and field', (_name, text, line, field, message) => {
    const e = errorOf(text);
    expect(e.code).toBe('validation');
    expect(e.where?.file).toBe('in.csv');
    expect(e.where?.line).toBe(line);
    expect(e.where?.field).toBe(field);
    expect(e.message).toMatch(message);
  });
  it('names a quoted row longer than the CSV row limit by its line', () => {
    const e = errorOf(`customer_id,frequency,recency,T\n"a",1,1,2\n"${'x'.repeat(1 << 20)}",0,0,3\n`);
    expect(e.message).toBe('the row is longer than 1,048,576 characters (the limit for a CSV row)');
    expect(e.where).toMatchObject({ file: 'in.csv', line: 3 });
  });
  it('rejects a header without the required columns', () => {
    expect(errorOf('customer_id,frequency,T\n1,0,3\n').message).toMatch(/recency column/);
    expect(errorOf('frequency,recency,T\n0,0,3\n').message).toMatch(/id column/);
  });
  it('grows its columns when the first lines underestimate the row count', () => {
    const long = Array.from({ length: 1500 }, (_, i) => `${'c'.repeat(60)}${i},1,2.5,10,12.34`);
    const short = Array.from({ length: 20000 }, (_, i) => `${i},0,0,7,0`);
    const s = parse(['customer_id,frequency,recency,T,monetary_value', ...long, ...short].join('\n'), false);
    expect(s.rows).toBe(21500);
    expect([s.frequency[0], s.recency[0], s.T[0], s.monetaryValue![0]]).toEqual([1, 2.5, 10, 12.34]);
    expect([s.frequency[21499], s.recency[21499], s.T[21499], s.monetaryValue![21499]]).toEqual([0, 0, 7, 0]);
  });
  it('sends lines the fast path does not accept to the schema (extra cells, spaces)', () => {
    expect(errorOf('customer_id,frequency,recency,T\n1,1,2,5,9\n').message).toMatch(/expected 4 cells/);
    const s = parse('customer_id,frequency,recency,T\n1, 1,2,5\r\n2,0,0,3\n');
    expect([s.rows, s.frequency[0], s.T[1]]).toEqual([2, 1, 3]);
  });
});

describe('summary CSV reader on big files (read in chunks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'retain-summary-'));
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const lines = ['\ufeffcustomer_id,frequency,recency,T,monetary_value'];
  for (let i = 1; i <= 400; i++) {
    const x = i % 4;
    lines.push(`c${i},${x},${x === 0 ? 0 : (i % 50) + 0.25},${60 + (i % 7)},${x === 0 ? 0 : 10 + i / 8}`);
    if (i % 97 === 0) lines.push(''); // blank lines count as lines
  }
  const text = lines.join('\r\n') + '\r\n';

  it('gives the same columns, ids and counts as reading the whole file, for any chunk size', () => {
    const whole = parseSummaryCsv(Buffer.from(text, 'utf8'), 'big.csv', { ids: true });
    const file = write('big.csv', text);
    for (const chunkBytes of [64, 100, 1000, 1 << 16]) {
      const chunked = readSummaryCsv(file, { ids: true, chunkBytes });
      expect(chunked).toEqual(whole);
    }
    expect(whole.rows).toBe(400);
  });

  it('numbers a bad line in a later chunk as the whole-file reader does', () => {
    const bad = text.replace('c350,2,', 'c350,two,');
    const file = write('bad.csv', bad);
    const where = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as AppError).where;
      }
      throw new Error('expected an error');
    };
    const whole = where(() => parseSummaryCsv(Buffer.from(bad, 'utf8'), file, { ids: false }));
    expect(where(() => readSummaryCsv(file, { ids: false, chunkBytes: 128 }))).toEqual(whole);
    expect(whole).toMatchObject({ line: 354, field: 'frequency' });
  });

  it('falls back to the quoted-cell parser when a quote turns up in a later chunk', () => {
    const quoted = text.replace('c399,', '"c,399",');
    const file = write('quoted.csv', quoted);
    const chunked = readSummaryCsv(file, { ids: true, chunkBytes: 128 });
    expect(chunked.ids![398]).toBe('c,399');
    expect(chunked).toEqual(parseSummaryCsv(Buffer.from(quoted, 'utf8'), file, { ids: true }));
  });
});

describe('summary CSV reader keeping repeat buyers only', () => {
  const text =
    'customer_id,frequency,recency,T,monetary_value\n1,2,3,4,10\n2,0,0,9,0\n3,1,2e0,7,5.5\n4,0,0,8,0\n';
  it('stores only frequency > 0 rows, counts every row, and still validates the others', () => {
    const s = parseSummaryCsv(Buffer.from(text), 'in.csv', { ids: false, repeatBuyersOnly: true });
    expect(s.rows).toBe(2);
    expect([...s.frequency]).toEqual([2, 1]);
    expect([...s.monetaryValue!]).toEqual([10, 5.5]);
    expect(s.stats).toMatchObject({ customers: 4, repeatBuyers: 2, maxT: 9 });
    // Gamma-Gamma's sums over the rows kept (the 2e0 row through the schema included).
    const spend = s.stats!.spend!;
    expect(spend.sumLogM).toBeCloseTo(Math.log(10) + Math.log(5.5), 12);
    expect(spend.sumXLogM).toBeCloseTo(2 * Math.log(10) + Math.log(5.5), 12);
    expect([...spend.countAtX!.subarray(0, 4)]).toEqual([0, 1, 1, 0]);
    const bad = text.replace('4,0,0,8,0', '4,0,3,8,0'); // frequency 0 with recency > 0
    expect(() => parseSummaryCsv(Buffer.from(bad), 'in.csv', { ids: false, repeatBuyersOnly: true })).toThrow(
      /must be 0/,
    );
  });
});
