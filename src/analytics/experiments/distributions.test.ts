import { describe, expect, it } from 'vitest';
import {
  chiSquareSf,
  normalCdf,
  normalQuantile,
  normalSf,
  regularizedGammaP,
  regularizedGammaQ,
} from './distributions.js';

/** |actual − expected| ≤ rel·|expected| (+ a tiny absolute floor for exact zeros). */
function close(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-300);
}

describe('normal CDF and quantile vs SciPy', () => {
  // python3: from scipy import special; repr(float(special.ndtr(x))) for each x
  const cdf: [number, number][] = [
    [-30, 4.906713927147908e-198],
    [-8.5, 9.47953482220325e-18],
    [-3, 0.0013498980316300933],
    [-1.959963984540054, 0.025],
    [-0.5, 0.3085375387259869],
    [0.3, 0.6179114221889526],
    [1, 0.8413447460685429],
    [2.5, 0.9937903346742238],
    [6, 0.9999999990134123],
    [9, 1.0],
  ];
  it.each(cdf)('Φ(%f)', (x, expected) => close(normalCdf(x), expected, 1e-13));

  it('upper tail keeps relative precision: 1 − Φ(8.5) = Φ(−8.5)', () => {
    close(normalSf(8.5), 9.47953482220325e-18, 1e-13);
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
  });

  // python3: from scipy import special; repr(float(special.ndtri(p))) for each p
  const ppf: [number, number][] = [
    [1e-300, -37.0470962993612],
    [1e-20, -9.262340089798409],
    [1e-6, -4.753424308822899],
    [0.001, -3.090232306167813],
    [0.02425, -1.972961051311885],
    [0.025, -1.9599639845400545],
    [0.2, -0.8416212335729142],
    [0.8, 0.8416212335729143],
    [0.975, 1.959963984540054],
    [0.999, 3.090232306167813],
    [1 - 1e-12, 7.0344869100478356],
  ];
  it.each(ppf)('Φ⁻¹(%f)', (p, expected) => close(normalQuantile(p), expected, 1e-14));

  it('Φ⁻¹ edges', () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(1.5)).toBeNaN();
    for (let p = 0.001; p < 1; p += 0.01) close(normalCdf(normalQuantile(p)), p, 1e-14);
  });
});

describe('regularized incomplete gamma and chi-square vs SciPy', () => {
  // python3: from scipy import special; special.gammainc(a, x), special.gammaincc(a, x)
  const gamma: [number, number, number, number][] = [
    [0.5, 0.1, 0.34527915398142317, 0.6547208460185768],
    [0.5, 4.5, 0.9973002039367398, 0.0026997960632601883],
    [1.5, 2.0, 0.7385358700508888, 0.26146412994911117],
    [3, 0.5, 0.014387677966970684, 0.9856123220330293],
    [10, 25, 0.9997785233617512, 0.0002214766382487835],
    [25, 10, 4.694938142679987e-5, 0.9999530506185732],
    [100, 120, 0.9721362601094793, 0.027863739890520652],
    [0.1, 1e-5, 0.3323984050405032, 0.6676015949594968],
  ];
  it.each(gamma)('P(%f, %f), Q', (a, x, p, q) => {
    close(regularizedGammaP(a, x), p, 1e-13);
    close(regularizedGammaQ(a, x), q, 1e-13);
  });

  // python3: from scipy import stats; stats.chi2.sf(x, df)
  const chi: [number, number, number][] = [
    [3.84, 1, 0.05004352124870519],
    [10.2, 2, 0.0060967465655156405],
    [0.2, 3, 0.9775892977616494],
    [60, 4, 2.9008631203404573e-12],
    [200, 9, 3.312992393909567e-38],
  ];
  it.each(chi)('χ² sf(%f; %d)', (x, df, expected) => close(chiSquareSf(x, df), expected, 1e-12));

  it('domain edges', () => {
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(regularizedGammaP(2, 0)).toBe(0);
    expect(regularizedGammaQ(-1, 1)).toBeNaN();
  });
});
