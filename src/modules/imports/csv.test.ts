import { describe, expect, it } from 'vitest';
import { CsvParser, detectDelimiter, TOO_LONG, type CsvRecord } from './csv.js';
import { InvalidBytes } from './encoding.js';

function parseAll(text: string, chunkSize: number, limit?: number, invalid?: InvalidBytes): CsvRecord[] {
  const p = new CsvParser(',', 1, invalid, limit);
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunkSize) p.push(text.slice(i, i + chunkSize), out);
  p.end(out);
  return out;
}

const SAMPLE = '\ufeffa,b,c\r\n1,"x, y",3\r\n2,"say ""hi""",\r\n3,"multi\nline",z\n\n4,,"last"';

describe('CsvParser', () => {
  it('parses quotes, escaped quotes, embedded newlines, CRLF, BOM and a missing final newline', () => {
    const expected = [
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', 'x, y', '3'], line: 2 },
      { fields: ['2', 'say "hi"', ''], line: 3 },
      { fields: ['3', 'multi\nline', 'z'], line: 4 },
      { fields: ['4', '', 'last'], line: 7 },
    ];
    expect(parseAll(SAMPLE, 1 << 20)).toEqual(expected);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const whole = parseAll(SAMPLE, 1 << 20);
    for (let size = 1; size <= 12; size++) expect(parseAll(SAMPLE, size)).toEqual(whole);
  });
});

describe('the record length limit', () => {
  const long = (n: number, c = 'x') => c.repeat(n);
  // limit 20: a record of 20 characters (without its line break) is read, 21 is left out
  const text = [
    'a,b',
    `${long(18)},y`, // 20: read
    `"${long(10)}\n${long(10)}",z`, // 26 over two lines, quoted: left out
    `"q""${long(30)}"`, // escaped quote, long: left out
    '1,2',
    long(50), // no quotes, long
    `"${long(5)}\n\n\n",w`, // short multi-line quoted
    `${long(19)},` + '\r', // 20 + CR: read (the CR is the line break)
    `"unterminated ${long(40)}\n3,4`, // an open quote to the end of the file: one record, too long
  ].join('\n');
  const expected = [
    { fields: ['a', 'b'], line: 1 },
    { fields: [long(18), 'y'], line: 2 },
    { fields: [TOO_LONG, '0'], line: 3 },
    { fields: [TOO_LONG, '0'], line: 5 },
    { fields: ['1', '2'], line: 6 },
    { fields: [TOO_LONG, '0'], line: 7 },
    { fields: [`${long(5)}\n\n\n`, 'w'], line: 8 },
    { fields: [long(19), ''], line: 12 },
    { fields: [TOO_LONG, '0'], line: 13 },
  ];

  it('leaves out a longer record as one, at its first line, whatever the chunk boundaries', () => {
    for (const size of [1, 2, 3, 5, 7, 11, 19, 20, 21, 22, 40, 1 << 20])
      expect(parseAll(text, size, 20), `chunks of ${size}`).toEqual(expected);
  });

  it('counts the escaped bytes of a record it leaves out, so later rows name their own', () => {
    const invalid = new InvalidBytes();
    for (const offset of [100, 101, 200]) invalid.add(offset);
    const esc = String.fromCharCode(0xdcff);
    const records = parseAll(`h\n${esc}${long(30)}${esc}\nok,${esc}\n`, 4, 20, invalid);
    expect(records).toEqual([
      { fields: ['h'], line: 1 },
      { fields: [TOO_LONG, '2'], line: 2 },
      { fields: ['ok', esc], line: 3 },
    ]);
  });

  it('keeps time linear and memory flat on a record that never ends', () => {
    const p = new CsvParser(',', 1, undefined, 1 << 10);
    const out: CsvRecord[] = [];
    p.push('h\n', out);
    const chunk = 'x'.repeat(1 << 16);
    const started = performance.now();
    for (let i = 0; i < 2_000; i++) p.push(chunk, out); // 128 Mi characters on one line
    p.push('\n1\n', out);
    p.end(out);
    expect(out).toEqual([
      { fields: ['h'], line: 1 },
      { fields: [TOO_LONG, '0'], line: 2 },
      { fields: ['1'], line: 3 },
    ]);
    expect(performance.now() - started).toBeLessThan(20_000); // quadratic copying took hours
  });
});

describe('delimiter detection', () => {
  it('finds the one delimiter that splits the header consistently with the next lines', () => {
    expect(detectDelimiter('a;b;c\n1;"x;y";12,50\n2;z;3\n', true)).toEqual({ delimiter: ';', ambiguous: [] });
    expect(detectDelimiter('a,b,c\n1,"x;y",2\n', true).delimiter).toBe(',');
    expect(detectDelimiter('a\tb\n1\t2\n', true).delimiter).toBe('\t');
    expect(detectDelimiter('a|b\n1|2,5\n', true).delimiter).toBe('|');
    expect(detectDelimiter('customer_id\nc1\n', true)).toEqual({ delimiter: undefined, ambiguous: [] });
    expect(detectDelimiter('a,b;c,d\n1,2;3,4\n', true).ambiguous).toEqual([',', ';']);
  });
});
