import { describe, expect, it } from 'vitest';
import { parseDateFormat, readAmount, readDate, type ValueFormat } from './values.js';

const amount = (text: string, decimal: 'auto' | 'point' | 'comma' = 'auto', currency = 'EUR') => {
  const r = readAmount(text, decimal, currency);
  return 'error' in r ? `error: ${r.error}` : r.value;
};

describe('amounts as exports write them', () => {
  it('reads decimal points and commas, grouping, symbols and codes exactly', () => {
    const cases: [string, 'auto' | 'point' | 'comma', string, string][] = [
      ['12.50', 'auto', 'EUR', '12.50'],
      ['12,50', 'auto', 'EUR', '12.50'],
      ['1 234,50', 'auto', 'UAH', '1234.50'],
      ['1\u00a0234,50', 'auto', 'UAH', '1234.50'],
      ['1.234,50', 'auto', 'EUR', '1234.50'],
      ['1,234.50', 'auto', 'USD', '1234.50'],
      ['1,234,567', 'auto', 'USD', '1234567'],
      ['1.234.567', 'auto', 'EUR', '1234567'],
      ["1'234.50", 'auto', 'CHF', '1234.50'],
      ['$12.50', 'auto', 'USD', '12.50'],
      ['$12.50', 'auto', 'CAD', '12.50'],
      ['12,50 €', 'auto', 'EUR', '12.50'],
      ['€12,50', 'auto', 'EUR', '12.50'],
      ['₴1 234,50', 'auto', 'UAH', '1234.50'],
      ['1 234,50 грн', 'auto', 'UAH', '1234.50'],
      ['1 234,50 грн.', 'auto', 'UAH', '1234.50'],
      ['£3', 'auto', 'GBP', '3'],
      ['12.50 USD', 'auto', 'USD', '12.50'],
      ['-$3.00', 'auto', 'USD', '-3.00'],
      ['$-3.00', 'auto', 'USD', '-3.00'],
      ['($3.00)', 'auto', 'USD', '-3.00'],
      ['-12,50', 'auto', 'EUR', '-12.50'],
      ['1,234', 'point', 'USD', '1234'],
      ['1,234', 'comma', 'EUR', 'error'],
      ['1.234', 'comma', 'EUR', '1234'],
      ['12,5', 'comma', 'EUR', '12.5'],
      ['0.001', 'auto', 'GBP', '0.001'],
      ['1.234', 'auto', 'KWD', '1.234'],
      ['¥1,234', 'point', 'JPY', '1234'],
    ];
    for (const [text, decimal, currency, expected] of cases) {
      const got = amount(text, decimal, currency);
      if (expected === 'error') expect(got, text).toMatch(/^error: /);
      else expect(got, `${text} (${decimal}, ${currency})`).toBe(expected);
    }
  });

  it('refuses what it cannot read for sure, naming the option or the problem', () => {
    expect(amount('1,234')).toMatch(/ambiguous .*--decimal point or --decimal comma/);
    expect(amount('1.234')).toMatch(/ambiguous .*--decimal/);
    expect(amount('12,50', 'point')).toMatch(/decimal comma, but the import reads --decimal point/);
    expect(amount('12.50', 'comma')).toMatch(/decimal point, but the import reads --decimal comma/);
    expect(amount('€12.50', 'auto', 'USD')).toBe("error: '€12.50' is in EUR, but the row's currency is USD");
    expect(amount('12.50 EUR', 'auto', 'USD')).toMatch(/is in EUR, but the row's currency is USD/);
    expect(amount('$5', 'auto', 'EUR')).toMatch(/is in USD\/CAD\/.*, but the row's currency is EUR/);
    expect(amount('12,505', 'comma', 'EUR')).toMatch(/has 3 decimals; EUR has 2/);
    expect(amount('1,23,456.00')).toMatch(/expected an amount like 12.50, got '1,23,456.00' \(thousands/);
    expect(amount('abc')).toBe("error: expected an amount like 12.50, got 'abc'");
    expect(amount('12 bananas')).toMatch(/expected an amount/);
    expect(amount('--3')).toMatch(/expected an amount/);
  });
});

const fmt = (over: Partial<ValueFormat> = {}): ValueFormat => ({
  decimal: 'auto',
  dateFormat: null,
  timeZone: 'UTC',
  ...over,
});
const date = (text: string, f: ValueFormat = fmt(), day = false) => {
  const r = readDate(text, f, day);
  if ('error' in r) return `error: ${r.error}`;
  // Rewritten UTC times come as `YYYY-MM-DD HH:MM:SS` (the schema's fast path); compare as ISO.
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(r.value) && text !== r.value)
    return new Date(r.value.replace(' ', 'T') + 'Z').toISOString();
  return r.value;
};

describe('dates as exports write them', () => {
  it('auto: ISO as written, dotted dates day first, slash dates refused as ambiguous', () => {
    expect(date('2024-03-15 10:00:00')).toBe('2024-03-15 10:00:00');
    expect(date('15.03.2024')).toBe('2024-03-15T00:00:00.000Z');
    expect(date('5.3.2024 14:05')).toBe('2024-03-05T14:05:00.000Z');
    expect(date('15.03.2024', fmt(), true)).toBe('2024-03-15');
    expect(date('03/04/2024')).toBe(
      'error: ambiguous date 03/04/2024: pass --date-format DD/MM/YYYY or MM/DD/YYYY',
    );
    expect(date('31.02.2024')).toBe("error: '31.02.2024' is not a calendar date");
    expect(date('15.13.2024')).toBe("error: '15.13.2024' is not a valid date");
  });

  it('reads the given format, with optional time and offset', () => {
    const dmy = fmt({ dateFormat: parseDateFormat('DD/MM/YYYY', '--date-format') });
    const mdy = fmt({ dateFormat: parseDateFormat('MM/DD/YYYY HH:mm', '--date-format') });
    expect(date('03/04/2024', dmy)).toBe('2024-04-03T00:00:00.000Z');
    expect(date('03/04/2024 09:30', mdy)).toBe('2024-03-04T09:30:00.000Z');
    expect(date('03/04/2024 09:30:15+02:00', mdy)).toBe('2024-03-04T07:30:15.000Z');
    expect(date('15.03.2024', dmy)).toMatch(/expected a date in --date-format DD\/MM\/YYYY/);
    expect(date('30/02/2024', dmy)).toMatch(/not a calendar date/);
    expect(date('03/04/2024 10:00', dmy, true)).toMatch(/without a time/);
    expect(() => parseDateFormat('D-M-Y', '--date-format')).toThrow(/expected a date format such as/);
    expect(() => parseDateFormat('DD.MM.DD', '--date-format')).toThrow(/expected a date format/);
  });

  it('reads wall times in the store time zone, across DST changes', () => {
    const kyiv = fmt({ timeZone: 'Europe/Kyiv' });
    expect(date('15.01.2024 10:00', kyiv)).toBe('2024-01-15T08:00:00.000Z'); // EET +2
    expect(date('2024-07-15 10:00:00', kyiv)).toBe('2024-07-15T07:00:00.000Z'); // EEST +3
    expect(date('2024-07-15T10:00:00Z', kyiv)).toBe('2024-07-15T10:00:00.000Z'); // an offset wins
    expect(date('2024-07-15', kyiv, true)).toBe('2024-07-15'); // a calendar day has no zone
    // 31 March 2024 03:00 → 04:00 does not exist: moved forward by the gap.
    expect(date('31.03.2024 03:30', kyiv)).toBe('2024-03-31T01:30:00.000Z'); // = 04:30 EEST
    // 27 October 2024 03:30 happens twice: the first (EEST).
    expect(date('27.10.2024 03:30', kyiv)).toBe('2024-10-27T00:30:00.000Z');
    const ny = fmt({ timeZone: 'America/New_York' });
    expect(date('2024-03-10 02:30:00', ny)).toBe('2024-03-10T07:30:00.000Z'); // 03:30 EDT
    expect(date('2024-11-03 01:30:00', ny)).toBe('2024-11-03T05:30:00.000Z'); // 01:30 EDT
  });
});
