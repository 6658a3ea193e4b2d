import { describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord } from './csv.js';

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
