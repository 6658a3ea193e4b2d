/**
 * Monthly recurring revenue and its movements (issue 28), pure. Each subscription's MRR is a step
 * function of time: `changes` give the MRR from an instant on (0 once cancelled or paused). A period's
 * movement compares every subscription's MRR at its start with its MRR at its end:
 * - new: 0 → x, never above 0 before;
 * - reactivated: 0 → x, above 0 some time before the period;
 * - expansion / contraction: x → y, both above 0;
 * - churned: x → 0.
 * So start + new + reactivated + expansion − contraction − churned = end, exactly (a subscription that
 * starts and stops within one period moves nothing).
 */

export interface MrrChange {
  subscription: string;
  atMs: number;
  /** MRR in minor units from `atMs` on. */
  mrrMinor: number;
}

export interface Period {
  label: string;
  startMs: number;
  /** Exclusive. */
  endMs: number;
}

export interface MrrMovement {
  label: string;
  startMrrMinor: number;
  newMinor: number;
  reactivatedMinor: number;
  expansionMinor: number;
  contractionMinor: number;
  churnedMinor: number;
  endMrrMinor: number;
  /** Subscriptions with MRR above 0 at the period's end. */
  activeAtEnd: number;
  newCount: number;
  reactivatedCount: number;
  churnedCount: number;
}

/** Each subscription's changes in time order (ties: the later in the input wins). */
function bySubscription(changes: readonly MrrChange[]): Map<string, MrrChange[]> {
  const out = new Map<string, MrrChange[]>();
  changes.forEach((c) => {
    const list = out.get(c.subscription);
    if (list) list.push(c);
    else out.set(c.subscription, [c]);
  });
  for (const list of out.values()) list.sort((a, b) => a.atMs - b.atMs);
  return out;
}

/** MRR just before `ms` (changes at `ms` not applied) and whether it was ever above 0 before `ms`. */
function stateBefore(list: readonly MrrChange[], ms: number): { mrr: number; everPaid: boolean } {
  let mrr = 0;
  let everPaid = false;
  for (const c of list) {
    if (c.atMs >= ms) break;
    mrr = c.mrrMinor;
    if (mrr > 0) everPaid = true;
  }
  return { mrr, everPaid };
}

export function mrrMovements(changes: readonly MrrChange[], periods: readonly Period[]): MrrMovement[] {
  const subs = bySubscription(changes);
  return periods.map((p) => {
    const m: MrrMovement = {
      label: p.label,
      startMrrMinor: 0,
      newMinor: 0,
      reactivatedMinor: 0,
      expansionMinor: 0,
      contractionMinor: 0,
      churnedMinor: 0,
      endMrrMinor: 0,
      activeAtEnd: 0,
      newCount: 0,
      reactivatedCount: 0,
      churnedCount: 0,
    };
    for (const list of subs.values()) {
      const start = stateBefore(list, p.startMs);
      const end = stateBefore(list, p.endMs).mrr;
      m.startMrrMinor += start.mrr;
      m.endMrrMinor += end;
      if (end > 0) m.activeAtEnd++;
      if (start.mrr === 0 && end > 0) {
        if (start.everPaid) {
          m.reactivatedMinor += end;
          m.reactivatedCount++;
        } else {
          m.newMinor += end;
          m.newCount++;
        }
      } else if (start.mrr > 0 && end === 0) {
        m.churnedMinor += start.mrr;
        m.churnedCount++;
      } else if (end > start.mrr) m.expansionMinor += end - start.mrr;
      else if (end < start.mrr) m.contractionMinor += start.mrr - end;
    }
    return m;
  });
}

/**
 * Survivor curves by start cohort: for each cohort (`cohortOf` of the start), alive[t] = subscribers
 * not cancelled t periods after they started (alive[0] = the cohort's size), for the periods every
 * member has been observed through by `asOfMs` (`periodEndMs(start, t)`: the instant t periods after a
 * start). The input of the sBG fit (analytics/btyd/sbg.ts).
 */
export function survivorCurves(
  subscribers: readonly { startMs: number; endMs: number | null }[],
  o: {
    asOfMs: number;
    cohortOf: (startMs: number) => string;
    periodEndMs: (startMs: number, t: number) => number;
    maxPeriods: number;
  },
): Map<string, number[]> {
  const cohorts = new Map<string, { startMs: number; endMs: number | null }[]>();
  for (const s of subscribers) {
    const k = o.cohortOf(s.startMs);
    const list = cohorts.get(k);
    if (list) list.push(s);
    else cohorts.set(k, [s]);
  }
  const out = new Map<string, number[]>();
  for (const [k, members] of [...cohorts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const alive = [members.length];
    for (let t = 1; t <= o.maxPeriods; t++) {
      // Every member must have reached period t's end for the count to be final.
      if (members.some((s) => o.periodEndMs(s.startMs, t) > o.asOfMs)) break;
      alive.push(members.filter((s) => s.endMs === null || s.endMs >= o.periodEndMs(s.startMs, t)).length);
    }
    out.set(k, alive);
  }
  return out;
}
