import { describe, expect, it } from 'vitest';
import { addDecimals, decimalToMinor, lineTotalMinor, minorToDecimal, parseDecimal } from './money.js';

describe('money', () => {
  it('converts decimals exactly, without binary floating point', () => {
    expect(decimalToMinor('2.55')).toBe(255);
    expect(decimalToMinor('0.29')).toBe(29); // 0.29 * 100 = 28.999999999999996 in floating point
    expect(decimalToMinor('10')).toBe(1000);
    expect(decimalToMinor('.5')).toBe(50);
    expect(decimalToMinor('-1.005')).toBe(-101);
    expect(decimalToMinor('1.005')).toBe(101);
    expect(decimalToMinor('0.001')).toBe(0);
    expect(decimalToMinor('1500', 0)).toBe(1500);
  });
  it('refuses what is not a plain decimal', () => {
    for (const bad of ['', 'abc', '1,50', '1.2.3', '1e5', '£3', 'NaN'])
      expect(decimalToMinor(bad)).toBeNull();
  });
  it('rounds a line total once, from the exact unit price', () => {
    const p = parseDecimal('0.001')!;
    expect(lineTotalMinor(5, p)).toBe(1); // 0.5p rounds half away from zero
    expect(lineTotalMinor(4, p)).toBe(0);
    expect(lineTotalMinor(12, parseDecimal('1.65')!)).toBe(1980);
    expect(lineTotalMinor(3, parseDecimal('0.195')!)).toBe(59); // 0.585 → 59
  });
  it('formats minor units as currency decimals', () => {
    expect(minorToDecimal(825464)).toBe(8254.64);
    expect(minorToDecimal(-5)).toBe(-0.05);
  });
  it('adds decimal strings exactly', () => {
    expect(addDecimals(['0.1', '0.2'])).toBe('0.3'); // 0.30000000000000004 in doubles
    expect(addDecimals(['4.90', '0.1'])).toBe('5.00');
    expect(addDecimals(['90071992547409.91', '90071992547409.91'])).toBe('180143985094819.82');
    expect(addDecimals(['-10.00', '2.5'])).toBe('-7.50');
    expect(addDecimals(['0.05', '-0.10'])).toBe('-0.05');
    expect(addDecimals(['3'])).toBe('3');
    expect(addDecimals([])).toBeUndefined();
    expect(addDecimals(['1.00', 'ten'])).toBe('ten');
  });
});
