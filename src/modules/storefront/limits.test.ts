import { describe, expect, it } from 'vitest';
import { BucketLimiter, collectLimits } from './limits.js';

describe('collect limits', () => {
  it('refills per key and forgets idle buckets beyond its size', () => {
    let now = 0;
    const l = new BucketLimiter(1, 3, () => now, 4);
    expect([l.take('a'), l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0, 1]);
    now = 1000;
    expect(l.take('a')).toBe(0);
    for (const k of ['b', 'c', 'd']) l.take(k);
    expect(l.size).toBe(4);
    now = 10_000; // every bucket full again: a new key sweeps them
    l.take('e');
    expect(l.size).toBe(1);
    // Everyone busy: the oldest half goes rather than growing past the cap.
    for (const k of ['f', 'g', 'h', 'i', 'j']) l.take(k);
    expect(l.size).toBeLessThanOrEqual(4);
  });

  it('reads the rates from the environment, refusing nonsense naming the variable', () => {
    expect(collectLimits({})).toEqual({ perAddress: 20, perVisitor: 1 });
    expect(collectLimits({ RETAIN_COLLECT_ADDRESS_RATE: '50', RETAIN_COLLECT_VISITOR_RATE: '0.5' })).toEqual({
      perAddress: 50,
      perVisitor: 0.5,
    });
    expect(() => collectLimits({ RETAIN_COLLECT_VISITOR_RATE: 'fast' })).toThrow(
      "RETAIN_COLLECT_VISITOR_RATE must be a positive number of requests per second, got 'fast'",
    );
  });
});
