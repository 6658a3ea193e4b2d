import { describe, expect, it } from 'vitest';
import { probabilityToBeatControl } from './bayes.js';
import { conversions } from './samples.js';
import { errorField } from '../../../test/support/errors.js';

const CONTROL = [0, 0, 1250, 0, 3400, 0, 0, 899, 0, 0, 0, 2100];
const VARIANT = [0, 1500, 0, 0, 2999, 0, 4200, 0, 0, 650, 0, 0, 1800, 0, 0, 0];

function close(actual: number, expected: number, tol: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol);
}

describe('probabilityToBeatControl: revenue (normal approximation)', () => {
  it('flat prior: Φ((ȳ_v − ȳ_c)/√(s²_v/n_v + s²_c/n_c))', () => {
    // python3 (numpy as np, scipy.stats): post(x) = (x.mean(), np.sqrt(x.var(ddof=1)/len(x)))
    //   → control (637.4166666666666, 319.3874453978706), variant (696.8125, 321.3107169437656)
    //   stats.norm.cdf((mv-mc)/np.hypot(sc, sv)) → 0.5521534338241646
    const r = probabilityToBeatControl(CONTROL, VARIANT);
    expect(r.method).toBe('normal-approximation');
    close(r.probability, 0.5521534338241646, 1e-12);
    close(r.control.sd, 319.3874453978706, 1e-9);
    close(r.variant.mean, 696.8125, 1e-9);
  });

  it('stated prior N(0, 300²) on each mean shrinks both posteriors', () => {
    // python3: dv = x.var(ddof=1)/len(x); prec = 1/300**2 + 1/dv; mean = (x.mean()/dv)/prec; sd = np.sqrt(1/prec)
    //   → control (298.77608398159504, 218.6648863008519), variant (324.5339360452725, 219.2791319459104)
    //   stats.norm.cdf((mv-mc)/np.hypot(sc, sv)) → 0.5331447796594454
    const r = probabilityToBeatControl(CONTROL, VARIANT, { prior: { mean: 0, sd: 300 } });
    close(r.control.mean, 298.77608398159504, 1e-9);
    close(r.control.sd, 218.6648863008519, 1e-9);
    close(r.variant.mean, 324.5339360452725, 1e-9);
    close(r.variant.sd, 219.2791319459104, 1e-9);
    close(r.probability, 0.5331447796594454, 1e-12);
  });
});

describe('probabilityToBeatControl: conversions (exact Beta)', () => {
  // python3 (scipy.stats, scipy.integrate), posteriors aA, bA, aB, bB = prior + (k, n − k):
  //   integrate.quad(lambda x: stats.beta.pdf(x, aB, bB)*stats.beta.cdf(x, aA, bA), 0, 1,
  //                  epsabs=1e-15, epsrel=1e-13, limit=1000, points=[aA/(aA+bA), aB/(aB+bB)])[0]
  // (quad's own error estimates: ≤ 1e-13).
  const cases: [string, number, number, number, number, [number, number] | null, number][] = [
    ['30/1000 vs 45/1000', 30, 1000, 45, 1000, null, 0.9606228977108686],
    ['45/1000 vs 30/1000', 45, 1000, 30, 1000, null, 0.03937710228913215],
    ['0/200 vs 3/1800', 0, 200, 3, 1800, null, 0.34528375467758204],
    ['5/10 vs 5/10', 5, 10, 5, 10, null, 0.49999999999999983],
    ['12/200 vs 140/1800, Beta(2, 3)', 12, 200, 140, 1800, [2, 3], 0.7264767313330568],
  ];
  it.each(cases)('%s', (_name, kA, nA, kB, nB, prior, expected) => {
    const r = probabilityToBeatControl(conversions(nA, kA), conversions(nB, kB), {
      kind: 'conversion',
      ...(prior ? { prior: { alpha: prior[0], beta: prior[1] } } : {}),
    });
    expect(r.method).toBe('beta-exact');
    close(r.probability, expected, 1e-11);
  });

  it('accepts 0/1 arrays and reports the Beta posteriors', () => {
    const r = probabilityToBeatControl([0, 1, 0, 0], [1, 1, 0, 1], { kind: 'conversion' });
    // A ~ Beta(2, 4), B ~ Beta(4, 2). Exact, in rationals (python3, fractions.Fraction, B(a, b) from factorials):
    //   sum(B(2+i, 6)/((2+i)*B(1+i, 2)*B(2, 4)) for i in range(4)) → 113/126 = 0.896825396825…
    // python3: integrate.quad(lambda x: stats.beta.pdf(x,4,2)*stats.beta.cdf(x,2,4), 0, 1)[0] → 0.896825396825397
    close(r.probability, 113 / 126, 1e-12);
    expect(r.control).toMatchObject({ alpha: 2, beta: 4 });
    expect(r.variant).toMatchObject({ alpha: 4, beta: 2 });
  });

  it('refuses non-0/1 data and non-integer priors, naming the field', () => {
    const field = errorField;
    expect(field(() => probabilityToBeatControl([0, 2], [0, 1], { kind: 'conversion' }))).toBe('control');
    expect(
      field(() => probabilityToBeatControl({ n: 10, sum: 3, sumSq: 5 }, [0, 1], { kind: 'conversion' })),
    ).toBe('control.sum');
    expect(
      field(() =>
        probabilityToBeatControl([0, 1], [0, 1], { kind: 'conversion', prior: { alpha: 0.5, beta: 1 } }),
      ),
    ).toBe('prior.alpha');
    expect(field(() => probabilityToBeatControl([1, 2], [1, 2], { prior: { mean: 0, sd: 0 } }))).toBe(
      'prior.sd',
    );
    expect(field(() => probabilityToBeatControl([1], [1, 2]))).toBe('control');
  });
});
