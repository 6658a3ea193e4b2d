import { describe, expect, it } from 'vitest';
import { CsvParser, detectDelimiter, type CsvRecord } from './csv.js';

function parseAll(text: string, chunkSize: number): CsvRecord[] {
  const p = new CsvParser();
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
