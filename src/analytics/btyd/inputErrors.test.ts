import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { assertBgBbData } from './bgbb.js';
import { bgNbdModel } from './bgnbd.js';
import { prepareGammaGamma } from './gammaGamma.js';
import { assertRfData } from './model.js';
import { assertSurvivorCurve, survivorCurveFromTenures } from './sbg.js';
import { buildSummary } from './summary.js';
import { validateHoldout } from './validate.js';

/** Runs `f` and returns what it threw. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

const f64 = (...v: number[]) => Float64Array.from(v);

describe('BTYD input errors are validation errors (HTTP 400, CLI exit 2)', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['no rows to fit', () => assertRfData(f64(), f64(), f64(), f64()), /no customers to fit/],
    ['recency > T', () => assertRfData(f64(1), f64(5), f64(3), f64(1)), /recency 5 exceeds T 3/],
    ['a negative weight', () => assertRfData(f64(1), f64(1), f64(3), f64(-1)), /weight must be positive/],
    [
      'a repeat buyer without spend',
      () => prepareGammaGamma(f64(1, 2), f64(10, 0)),
      /monetary value must be > 0/,
    ],
    ['no repeat buyer', () => prepareGammaGamma(f64(0, 0), f64(0, 0)), /at least one repeat buyer/],
    [
      'BG/BB x > t_x',
      () => assertBgBbData({ frequency: [2], recency: [1], periods: [3], weight: [1] }),
      /need x ≤ t_x ≤ n/,
    ],
    ['an increasing survivor curve', () => assertSurvivorCurve([10, 11]), /exceeds the previous period/],
    [
      'tenures observed to different horizons',
      () =>
        survivorCurveFromTenures([
          { periods: 2, churned: false },
          { periods: 3, churned: false },
        ]),
      /same horizon/,
    ],
    [
      'no customers to validate',
      () =>
        validateHoldout(bgNbdModel({ r: 1, alpha: 1, a: 1, b: 1 }), {
          frequency: [],
          recency: [],
          T: [],
          holdoutFrequency: [],
          holdoutDuration: [],
        }),
      /no customers to validate/,
    ],
    [
      'a holdout end on the calibration day',
      () =>
        buildSummary([], {
          calibrationEnd: new Date('2024-01-01T00:00:00Z'),
          holdoutEnd: new Date('2024-01-01T12:00:00Z'),
          timeUnit: 'day',
        }),
      /holdout end must be after the calibration end/,
    ],
  ];
  it.each(cases)('%s', (_name, f, message) => {
    const err = thrown(f);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('validation');
    expect((err as AppError).message).toMatch(message);
  });
});
