import { describe, expect, it } from 'vitest';
import type { DifferenceInterval } from './compare.js';
import { formatProbability, verdict } from './verdict.js';
import { errorField } from '../../../test/support/errors.js';

/** A caller's formatter: pence → pounds, minus sign in front of the currency. */
const gbp = (minor: number) => `${minor < 0 ? '−' : ''}£${(Math.abs(minor) / 100).toFixed(2)}`;

const interval = (estimate: number, low: number, high: number, alpha = 0.05): DifferenceInterval => ({
  estimate,
  low,
  high,
  alpha,
  kind: 'fixed-horizon',
});

describe('verdict', () => {
  it('a variant that earned more', () => {
    expect(
      verdict({
        interval: interval(41, 5, 77),
        variantName: 'Variant B',
        variantShortName: 'B',
        formatMoney: gbp,
        probabilityToBeat: 0.991,
      }),
    ).toBe(
      'Variant B earned £0.41 more per recipient than the holdout (95 % CI £0.05 to £0.77); probability B beats the holdout: 99 %.',
    );
  });

  it('a variant that earned less, 90 % interval, no probability', () => {
    expect(
      verdict({ interval: interval(-30, -55, -5, 0.1), variantName: 'The spring e-mail', formatMoney: gbp }),
    ).toBe('The spring e-mail earned £0.30 less per recipient than the holdout (90 % CI −£0.55 to −£0.05).');
  });

  it('not distinguishable from no difference', () => {
    expect(
      verdict({
        interval: interval(12, -20, 44),
        variantName: 'Variant B',
        variantShortName: 'B',
        formatMoney: gbp,
        probabilityToBeat: 0.72,
      }),
    ).toBe(
      'Variant B was not distinguishable from the holdout: £0.12 more per recipient (95 % CI −£0.20 to £0.44); probability B beats the holdout: 72 %.',
    );
  });

  it('an always-valid interval is labelled so; the control can be named', () => {
    expect(
      verdict({
        interval: { ...interval(41, 5, 77), kind: 'always-valid' },
        variantName: 'Variant B',
        controlName: 'variant A',
        formatMoney: gbp,
      }),
    ).toBe('Variant B earned £0.41 more per recipient than variant A (95 % always-valid CI £0.05 to £0.77).');
  });

  it('probabilities never claim certainty', () => {
    expect(formatProbability(0.9999)).toBe('> 99 %');
    expect(formatProbability(0.001)).toBe('< 1 %');
    expect(formatProbability(0.5)).toBe('50 %');
    expect(formatProbability(0.994)).toBe('99 %');
  });

  it('refuses bad input, naming the field', () => {
    const field = errorField;
    const ok = { interval: interval(1, 0, 2), variantName: 'B', formatMoney: gbp };
    expect(field(() => verdict({ ...ok, interval: interval(NaN, 0, 2) }))).toBe('interval.estimate');
    expect(field(() => verdict({ ...ok, interval: interval(5, 0, 2) }))).toBe('interval');
    expect(field(() => verdict({ ...ok, interval: interval(1, 0, 2, 0) }))).toBe('interval.alpha');
    expect(field(() => verdict({ ...ok, variantName: ' ' }))).toBe('variantName');
    expect(field(() => verdict({ ...ok, probabilityToBeat: 1.2 }))).toBe('probabilityToBeat');
  });
});
