import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random.js';
import {
  fifoOrder,
  MemberLedger,
  type Allocation,
  type Entry,
  type Grant,
  type OverdraftPolicy,
} from './ledger.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/**
 * Property tests of the ledger (issue 24): random sequences of earn / redeem / refund (clawback) /
 * reversal / adjustment in simulated time, checked after every step:
 *   Σ entries = cached totals; available ≥ the policy floor (0 under `forgive`; under `allow` only a
 *   clawback goes below, by exactly the debt); no grant spent beyond its amount (remaining = points −
 *   Σ allocations, 0 ≤ remaining ≤ points); every debit takes grants in FIFO order; an expiry expires
 *   exactly the grant's unspent remainder.
 */
function run(seed: number, policy: OverdraftPolicy, steps: number) {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const l = new MemberLedger([], { available: 0, pending: 0, debt: 0 });
  let now = T0;
  let nextId = 1;
  const entries: Entry[] = [];
  const allGrants = new Map<number, Grant>();
  const debits: Allocation[][] = [];
  const orderGrants: number[] = [];
  const allocated = new Map<number, number>();
  const addAllocations = (e: Entry) => {
    for (const a of e.allocations) allocated.set(a.grantId, (allocated.get(a.grantId) ?? 0) + a.points);
  };

  const ok = (cond: boolean, what: string) => {
    if (!cond) throw new Error(`seed ${seed}: ${what}`);
  };
  const check = (label: string) => {
    const sumA = entries.reduce((s, e) => s + e.availableDelta, 0);
    const sumP = entries.reduce((s, e) => s + e.pendingDelta, 0);
    expect(sumA, `${label}: Σ available`).toBe(l.totals.available);
    expect(sumP, `${label}: Σ pending`).toBe(l.totals.pending);
    if (policy === 'forgive') {
      expect(l.totals.available, label).toBeGreaterThanOrEqual(0);
      expect(l.totals.debt, label).toBe(0);
    }
    expect(l.totals.available + l.totals.debt, label).toBeGreaterThanOrEqual(0);
    let open = 0;
    let pending = 0;
    for (const g of l.grants) {
      ok(
        g.remaining === g.points - (allocated.get(g.id) ?? 0),
        `${label}: grant ${g.id} remaining = points − Σ allocations`,
      );
      ok(g.remaining >= 0 && g.remaining <= g.points, `${label}: grant ${g.id} within its amount`);
      if (g.status === 'available') open += g.remaining;
      if (g.status === 'pending') pending += g.remaining;
      if (g.status === 'expired') ok(g.remaining === 0, `${label}: expired grant ${g.id} empty`);
    }
    expect(open - l.totals.debt, `${label}: available = Σ remaining − debt`).toBe(l.totals.available);
    expect(pending).toBe(l.totals.pending);
  };

  const settle = () => {
    for (const e of l.settle(new Date(now))) {
      if (e.type === 'expire') {
        // Expired = the grant's unspent remainder just before: its points − all taken from it so far.
        const g = allGrants.get(e.grantId!)!;
        ok(0 - e.availableDelta === g.points - (allocated.get(g.id) ?? 0), `expiry of grant ${g.id}`);
        ok(g.remaining === 0 && g.status === 'expired', `grant ${g.id} closed`);
      }
      entries.push(e);
      addAllocations(e);
    }
  };

  for (let step = 0; step < steps; step++) {
    const op = rnd();
    now += int(0, 6) * DAY + int(0, 3600_000);
    settle();
    if (op < 0.35) {
      // An order's points (pending for 0–14 days) or a bonus (available now); its own expiry.
      const pendingDays = rnd() < 0.7 ? int(0, 14) : 0;
      const g = {
        id: nextId++,
        points: int(1, 400),
        availableAt: new Date(now + pendingDays * DAY),
        expiresAt: new Date(now + pendingDays * DAY + int(1, 90) * DAY),
      };
      const e = l.credit(g, new Date(now));
      entries.push(e);
      addAllocations(e);
      allGrants.set(g.id, l.grant(g.id)!);
      if (rnd() < 0.7) orderGrants.push(g.id);
    } else if (op < 0.65) {
      const want = int(1, 500);
      const spendable = l.spendable();
      const e = l.debit(rnd() < 0.8 ? 'redeem' : 'adjust', want);
      if (e === null) {
        expect(l.totals.available).toBeLessThan(want);
        continue;
      }
      // FIFO: every grant left with points expires no sooner than the last one taken from.
      const taken = e.allocations.map((a) => spendable.find((g) => g.id === a.grantId)!);
      const order = [...taken].sort(fifoOrder);
      expect(taken.map((g) => g.id)).toEqual(order.map((g) => g.id));
      const last = taken[taken.length - 1]!;
      for (const g of l.spendable()) if (g.id !== last.id) ok(fifoOrder(g, last) > 0, `FIFO at step ${step}`);
      expect(e.allocations.reduce((s, a) => s + a.points, 0)).toBe(want);
      entries.push(e);
      addAllocations(e);
      debits.push(e.allocations);
    } else if (op < 0.85 && orderGrants.length) {
      const gid = orderGrants[int(0, orderGrants.length - 1)]!;
      const g = allGrants.get(gid)!;
      const e = l.clawback(gid, int(1, g.points), policy);
      entries.push(e);
      addAllocations(e);
    } else if (debits.length) {
      const i = int(0, debits.length - 1);
      const allocs = debits.splice(i, 1)[0]!;
      for (const g of allGrants.values()) if (!l.grant(g.id)) l.grants.push(g);
      for (const e of l.reverse(allocs, new Date(now))) {
        entries.push(e);
        addAllocations(e);
      }
    }
    if (step % 5 === 0) check(`step ${step}`);
  }
  // Far in the future everything has expired: nothing is left but debt.
  now += 400 * DAY;
  settle();
  check(`seed ${seed} end`);
  expect(l.totals.pending).toBe(0);
  expect(l.totals.available).toBe(0 - l.totals.debt);
  return entries.length;
}

describe('the points ledger (property tests)', () => {
  it('holds its invariants over 300 random sequences under forgive', () => {
    let n = 0;
    for (let seed = 1; seed <= 300; seed++) n += run(seed, 'forgive', 100);
    expect(n).toBeGreaterThan(15_000);
  });
  it('holds its invariants over 300 random sequences under allow (debt repaid first by new points)', () => {
    for (let seed = 1001; seed <= 1300; seed++) run(seed, 'allow', 100);
  });
  it('repays debt from the next points that become available', () => {
    const l = new MemberLedger([], { available: 0, pending: 0, debt: 0 });
    const at = (d: number) => new Date(T0 + d * DAY);
    l.credit({ id: 1, points: 100, availableAt: at(0), expiresAt: at(30) }, at(0));
    l.debit('redeem', 100);
    const claw = l.clawback(1, 60, 'allow');
    expect(claw).toMatchObject({ availableDelta: -60, debtAdded: 60 });
    expect(l.totals).toEqual({ available: -60, pending: 0, debt: 60 });
    l.credit({ id: 2, points: 50, availableAt: at(5), expiresAt: at(40) }, at(1)); // pending
    expect(l.totals).toEqual({ available: -60, pending: 50, debt: 60 });
    const [release] = l.settle(at(5));
    expect(release).toMatchObject({ type: 'release', availableDelta: 50, debtRepaid: 50 });
    expect(l.totals).toEqual({ available: -10, pending: 0, debt: 10 });
    expect(l.debit('redeem', 1)).toBeNull(); // the floor for spending is 0
  });
});
