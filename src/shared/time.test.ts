import { describe, expect, it } from 'vitest';
import { parseInstant } from './time.js';

describe('parseInstant', () => {
  it('reads the formats stores export, as UTC unless an offset is given', () => {
    expect(parseInstant('2010-12-01 08:26:00')?.toISOString()).toBe('2010-12-01T08:26:00.000Z');
    expect(parseInstant('2010-12-01 08:26')?.toISOString()).toBe('2010-12-01T08:26:00.000Z');
    expect(parseInstant('2010-12-01')?.toISOString()).toBe('2010-12-01T00:00:00.000Z');
    expect(parseInstant('2024-01-15T10:23:45+01:00')?.toISOString()).toBe('2024-01-15T09:23:45.000Z');
    expect(parseInstant('2024-01-15 10:23:45 -0500')?.toISOString()).toBe('2024-01-15T15:23:45.000Z');
    expect(parseInstant('2024-01-15T10:23:45.5Z')?.toISOString()).toBe('2024-01-15T10:23:45.500Z');
    expect(parseInstant('19970101', { compact: true })?.toISOString()).toBe('1997-01-01T00:00:00.000Z');
  });
  it('refuses impossible or ambiguous dates', () => {
    for (const bad of [
      '2011-02-30',
      '2011-13-01',
      '12/01/2010 08:26',
      '2010-12-01 25:00',
      '',
      'yesterday',
      '19970101',
    ]) {
      expect(parseInstant(bad)).toBeNull();
    }
  });
});
