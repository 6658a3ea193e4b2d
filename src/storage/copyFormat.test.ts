import { describe, expect, it } from 'vitest';
import { CopyEncoder, copyLine } from './copyFormat.js';
import type { SqlValue } from './port.js';

const decode = (e: CopyEncoder) => Buffer.from(e.take().bytes).toString('utf8');

describe('CopyEncoder', () => {
  it('encodes exactly what copyLine writes, for every value kind', () => {
    const rows: SqlValue[][] = [
      [
        1,
        'O1',
        null,
        new Date('2023-02-20T20:13:18Z'),
        'USD',
        true,
        'SKU "7"',
        'Päckchen – ü',
        0,
        -42,
        18.81,
      ],
      [9007199254740991, '', false, new Date('1970-01-01T00:00:00.001Z'), 10n, 'a,b\nc', 'x"', '😀"'],
      [
        new Date('2000-02-29T23:59:59.999Z'),
        new Date('1969-12-31T23:59:59.000Z'),
        new Date('9999-12-31T00:00:00Z'),
      ],
      [new Date('2024-03-01T12:00:00Z'), new Date('2024-03-01T12:00:00Z'), 1.5e-7, -0],
    ];
    const e = new CopyEncoder(8); // tiny start: exercises growth
    for (const r of rows) e.add(r);
    expect(decode(e)).toBe(rows.map(copyLine).join(''));
  });

  it('matches toISOString on random instants from year 0 to 9999', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const e = new CopyEncoder();
    const rows: SqlValue[][] = [];
    for (let i = 0; i < 5000; i++) {
      const d = new Date(Math.floor(-62_167_219_200_000 + rand() * 315_537_897_599_999));
      rows.push([d]);
      e.add([d]);
    }
    expect(decode(e)).toBe(rows.map(copyLine).join(''));
  });

  it('counts rows and starts afresh after take', () => {
    const e = new CopyEncoder();
    e.add([1]);
    e.add([2]);
    const first = e.take();
    expect(first.rows).toBe(2);
    expect(e.rows).toBe(0);
    e.add(['z']);
    expect(decode(e)).toBe('"z"\n');
  });
});
