/**
 * The points ledger's arithmetic (issue 24), pure: a member's grants and cached totals in, the
 * entries and allocations an operation writes out. The loyalty service loads the member's open grants
 * (locked), runs operations here and writes what they return in the same transaction; the property
 * tests run the same machine over random sequences.
 *
 * Terms:
 * - A **grant** is one credit of points (an order's points, a bonus, a positive adjustment) with its own
 *   expiry. While `pending` (an order's return window) its points count in `pending`; once `available`
 *   they can be spent. `remaining` is what is left of it: `points − Σ allocations`.
 * - An **allocation** takes points out of one grant: spending (FIFO by expiry), a clawback, an expiry,
 *   or paying back debt. Every decrease of a grant's `remaining` is an allocation, so
 *   `remaining = points − Σ allocations` holds row by row, and no grant is ever spent beyond its amount.
 * - An **entry** is one line of the append-only ledger: `pendingDelta` and `availableDelta` (integers).
 *   Σ pendingDelta = pending, Σ availableDelta = available (the cached balance).
 * - **Debt**: a clawback that found too few points, under the `allow` overdraft policy, leaves the
 *   balance negative by the shortfall; grants that become available later pay it back first (their
 *   allocations name the clawback's entry). Under `forgive` the shortfall is written off.
 *   Invariant: available = Σ remaining of available grants − debt.
 */

export type GrantStatus = 'pending' | 'available' | 'expired';

export interface Grant {
  id: number;
  status: GrantStatus;
  points: number;
  remaining: number;
  availableAt: Date;
  expiresAt: Date;
}

export interface Allocation {
  grantId: number;
  points: number;
}

export type EntryType = 'earn' | 'release' | 'redeem' | 'reverse' | 'expire' | 'adjust' | 'clawback';

export interface Entry {
  type: EntryType;
  pendingDelta: number;
  availableDelta: number;
  /** The grant the entry credits, releases or expires (null for spending across grants). */
  grantId: number | null;
  /** Points taken out of grants by this entry (its debits), in the order taken. */
  allocations: Allocation[];
  /** For a release that paid back debt: how much of the grant went to the debt. */
  debtRepaid?: number;
  /** For a clawback under `forgive`: the shortfall written off. */
  forgiven?: number;
  /** For a clawback under `allow`: the shortfall left as debt. */
  debtAdded?: number;
}

export interface MemberTotals {
  available: number;
  pending: number;
  debt: number;
}

export type OverdraftPolicy = 'allow' | 'forgive';

/** FIFO order: soonest expiry first, then the older grant. */
export function fifoOrder(a: Grant, b: Grant): number {
  return a.expiresAt.getTime() - b.expiresAt.getTime() || a.id - b.id;
}

/**
 * A member's ledger state in memory: its open grants (pending or available with points left) and
 * totals. Operations mutate it and return the entries to write; `changedGrants` lists the grants whose
 * status or remaining moved.
 */
export class MemberLedger {
  readonly grants: Grant[];
  readonly totals: MemberTotals;
  readonly changedGrants = new Set<number>();

  constructor(grants: readonly Grant[], totals: MemberTotals) {
    this.grants = grants.map((g) => ({ ...g }));
    this.totals = { ...totals };
  }

  private take(g: Grant, points: number, into: Allocation[]): void {
    if (points <= 0) return;
    if (points > g.remaining) throw new Error(`grant ${g.id}: taking ${points} of ${g.remaining}`);
    g.remaining -= points;
    this.changedGrants.add(g.id);
    const last = into.find((a) => a.grantId === g.id);
    if (last) last.points += points;
    else into.push({ grantId: g.id, points });
  }

  grant(id: number): Grant | undefined {
    return this.grants.find((g) => g.id === id);
  }

  /** The available grants with points left, FIFO. */
  spendable(): Grant[] {
    return this.grants.filter((g) => g.status === 'available' && g.remaining > 0).sort(fifoOrder);
  }

  /** A new grant: pending until `availableAt` (if in the future of `now`), else available at once. */
  credit(g: Omit<Grant, 'status' | 'remaining'>, now: Date): Entry {
    if (!Number.isSafeInteger(g.points) || g.points <= 0)
      throw new Error(`grant points must be > 0: ${g.points}`);
    if (g.expiresAt.getTime() <= g.availableAt.getTime())
      throw new Error(`grant ${g.id} expires before it becomes available`);
    const pending = g.availableAt.getTime() > now.getTime();
    const grant: Grant = { ...g, status: pending ? 'pending' : 'available', remaining: g.points };
    this.grants.push(grant);
    this.changedGrants.add(g.id);
    if (pending) {
      this.totals.pending += g.points;
      return { type: 'earn', pendingDelta: g.points, availableDelta: 0, grantId: g.id, allocations: [] };
    }
    this.totals.available += g.points;
    const entry: Entry = {
      type: 'earn',
      pendingDelta: 0,
      availableDelta: g.points,
      grantId: g.id,
      allocations: [],
    };
    this.repayDebt(grant, entry);
    return entry;
  }

  private repayDebt(g: Grant, entry: Entry): void {
    if (this.totals.debt <= 0) return;
    const pay = Math.min(this.totals.debt, g.remaining);
    this.take(g, pay, entry.allocations);
    this.totals.debt -= pay;
    entry.debtRepaid = pay;
  }

  /**
   * Releases and expires what is due at `now`, in time order (a grant released and expired within the
   * same catch-up is released first). Returns the entries (release before expire per grant).
   */
  settle(now: Date): Entry[] {
    const t = now.getTime();
    const due: { at: number; g: Grant; kind: 'release' | 'expire' }[] = [];
    for (const g of this.grants) {
      if (g.status === 'pending' && g.availableAt.getTime() <= t)
        due.push({ at: g.availableAt.getTime(), g, kind: 'release' });
      if ((g.status === 'pending' || g.status === 'available') && g.expiresAt.getTime() <= t)
        due.push({ at: g.expiresAt.getTime(), g, kind: 'expire' });
    }
    due.sort((a, b) => a.at - b.at || (a.kind === b.kind ? a.g.id - b.g.id : a.kind === 'release' ? -1 : 1));
    const out: Entry[] = [];
    for (const d of due) out.push(d.kind === 'release' ? this.release(d.g) : this.expire(d.g));
    return out;
  }

  private release(g: Grant): Entry {
    g.status = 'available';
    this.changedGrants.add(g.id);
    this.totals.pending -= g.remaining;
    this.totals.available += g.remaining;
    const entry: Entry = {
      type: 'release',
      pendingDelta: -g.remaining,
      availableDelta: g.remaining,
      grantId: g.id,
      allocations: [],
    };
    this.repayDebt(g, entry);
    return entry;
  }

  /** Expires exactly the unspent remainder of `g` (0 points: an entry of 0 still closes the grant). */
  private expire(g: Grant): Entry {
    if (g.status !== 'available') throw new Error(`grant ${g.id} expires while ${g.status}`);
    const left = g.remaining;
    const entry: Entry = {
      type: 'expire',
      pendingDelta: 0,
      availableDelta: -left,
      grantId: g.id,
      allocations: [],
    };
    this.take(g, left, entry.allocations);
    g.status = 'expired';
    this.changedGrants.add(g.id);
    this.totals.available -= left;
    return entry;
  }

  /**
   * Spends `points` FIFO by expiry (a redemption or a negative adjustment); refused (null) when the
   * available balance is short — the floor for spending is 0, whatever the overdraft policy.
   */
  debit(type: 'redeem' | 'adjust', points: number): Entry | null {
    if (!Number.isSafeInteger(points) || points <= 0) throw new Error(`debit points must be > 0: ${points}`);
    if (this.totals.available < points) return null;
    const entry: Entry = { type, pendingDelta: 0, availableDelta: -points, grantId: null, allocations: [] };
    let left = points;
    for (const g of this.spendable()) {
      if (left === 0) break;
      const n = Math.min(left, g.remaining);
      this.take(g, n, entry.allocations);
      left -= n;
    }
    if (left !== 0)
      throw new Error(`ledger out of balance: available ${this.totals.available}, grants short by ${left}`);
    this.totals.available -= points;
    return entry;
  }

  /**
   * Gives back what an earlier debit took, to the same grants (their expiry unchanged). Points of a
   * grant that has expired meanwhile come back and expire at once (two entries), so a reversal never
   * extends a grant's life.
   */
  reverse(allocations: readonly Allocation[], now: Date): Entry[] {
    const back: Entry = {
      type: 'reverse',
      pendingDelta: 0,
      availableDelta: 0,
      grantId: null,
      allocations: [],
    };
    const expired: Allocation[] = [];
    for (const a of allocations) {
      const g = this.grant(a.grantId);
      if (g && g.status === 'available' && g.expiresAt.getTime() > now.getTime()) {
        g.remaining += a.points;
        this.changedGrants.add(g.id);
      } else expired.push(a);
      back.availableDelta += a.points;
    }
    // Negative allocations record what went back into each grant.
    back.allocations = allocations.map((a) => ({ grantId: a.grantId, points: -a.points }));
    this.totals.available += back.availableDelta;
    const out = [back];
    const lapsed = expired.reduce((s, a) => s + a.points, 0);
    if (lapsed > 0) {
      out.push({
        type: 'expire',
        pendingDelta: 0,
        availableDelta: -lapsed,
        grantId: null,
        allocations: expired.map((a) => ({ ...a })),
      });
      this.totals.available -= lapsed;
    }
    return out;
  }

  /**
   * Claws back `points` of an order's grant after a refund: first what is still pending of that grant,
   * then its available remainder, then other available points FIFO; a shortfall is debt (`allow`) or
   * written off (`forgive`).
   */
  clawback(grantId: number, points: number, policy: OverdraftPolicy): Entry {
    if (!Number.isSafeInteger(points) || points <= 0)
      throw new Error(`clawback points must be > 0: ${points}`);
    const entry: Entry = { type: 'clawback', pendingDelta: 0, availableDelta: 0, grantId, allocations: [] };
    let left = points;
    const own = this.grant(grantId);
    if (own && own.status === 'pending') {
      const n = Math.min(left, own.remaining);
      this.take(own, n, entry.allocations);
      entry.pendingDelta -= n;
      this.totals.pending -= n;
      left -= n;
    }
    const sources =
      own && own.status === 'available'
        ? [own, ...this.spendable().filter((g) => g !== own)]
        : this.spendable();
    for (const g of sources) {
      if (left === 0) break;
      const n = Math.min(left, g.remaining);
      if (n === 0) continue;
      this.take(g, n, entry.allocations);
      entry.availableDelta -= n;
      this.totals.available -= n;
      left -= n;
    }
    if (left > 0) {
      if (policy === 'allow') {
        entry.availableDelta -= left;
        this.totals.available -= left;
        this.totals.debt += left;
        entry.debtAdded = left;
      } else entry.forgiven = left;
    }
    return entry;
  }
}
