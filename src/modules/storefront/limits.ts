import { AppError } from '../../shared/errors.js';

/**
 * Token buckets keyed by anything a stranger chooses (an address, an anonymous id): `burst` tokens,
 * refilled at `perSecond`. Unlike the API keys' limiter, the keys here are unbounded, so buckets that
 * have refilled (idle ones) are dropped once there are more than `maxKeys`: a flood of new keys costs
 * memory only up to that, and a dropped bucket was full anyway. One process; durations, not business time.
 */
export class BucketLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly nowMs: () => number = () => performance.now(),
    private readonly maxKeys = 50_000,
  ) {}

  /** Takes one token; 0 when allowed, else the whole seconds to wait. */
  take(key: string): number {
    const now = this.nowMs();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (!this.buckets.has(key)) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      this.buckets.set(key, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    const full = (this.burst / this.perSecond) * 1000;
    for (const [k, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(k);
    // Everyone active: forget the oldest half rather than grow without bound.
    if (this.buckets.size >= this.maxKeys) {
      let drop = this.buckets.size / 2;
      for (const k of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(k);
      }
    }
  }
}

export interface CollectLimits {
  /** Requests per second per client address (burst: 5 s worth). */
  perAddress: number;
  /** Requests per second per anonymous id (burst: 10 s worth). */
  perVisitor: number;
}

export const DEFAULT_COLLECT_LIMITS: CollectLimits = { perAddress: 20, perVisitor: 1 };

/**
 * The collect limits, from `RETAIN_COLLECT_ADDRESS_RATE` and `RETAIN_COLLECT_VISITOR_RATE` (requests per
 * second; a value that is not a positive number is an error naming the variable).
 */
export function collectLimits(env: Record<string, string | undefined> = process.env): CollectLimits {
  const read = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0)
      throw new AppError(
        'validation',
        `${name} must be a positive number of requests per second, got '${raw}'`,
        {
          where: { field: name },
        },
      );
    return n;
  };
  return {
    perAddress: read('RETAIN_COLLECT_ADDRESS_RATE', DEFAULT_COLLECT_LIMITS.perAddress),
    perVisitor: read('RETAIN_COLLECT_VISITOR_RATE', DEFAULT_COLLECT_LIMITS.perVisitor),
  };
}
