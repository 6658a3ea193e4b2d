import type { ModuleContext } from '../../kit/context.js';
import type { SqlValue } from '../../storage/port.js';
import { builtinSegment } from './builtins.js';
import { countMembers, segmentByName } from './repository.js';
import { compiledSegment } from './service.js';
import { compileRule, SEGMENT_BASE, SEGMENT_FROM } from './sql.js';

/**
 * A segment as the customers another module's query covers (`retain report ltv|channels --segment`):
 * its members' internal ids as a subquery, compiled at an instant, with placeholders numbered from
 * wherever the caller's own parameters end. Part of the module's repository layer.
 */
export interface SegmentScope {
  name: string;
  builtin: boolean;
  /** Members at `asOf`. */
  members: number;
  asOf: Date;
  scoresRefreshedAt: Date | null;
  /** `SELECT c.customer_id FROM … WHERE <the rule>` with its placeholders from `$first`. */
  scope: (first: number) => { sql: string; params: SqlValue[] };
}

/** Segment `name` (saved or built-in; not found: AppError not_found) evaluated at `asOf`. */
export async function segmentScope(ctx: ModuleContext, name: string, asOf: Date): Promise<SegmentScope> {
  const p = await compiledSegment(ctx, { name, asOf: asOf.toISOString() });
  return {
    name,
    builtin: builtinSegment(name) !== undefined,
    members: await countMembers(ctx.db, p.compiled),
    asOf: p.asOf,
    scoresRefreshedAt: p.scoresRefreshedAt,
    scope: (first) => {
      const c = compileRule(p.rule, { now: p.asOf, currency: p.currency }, first);
      return {
        sql: `SELECT c.customer_id FROM ${SEGMENT_FROM} WHERE ${SEGMENT_BASE} AND ${c.where}`,
        params: c.params,
      };
    },
  };
}

/** Whether a saved or built-in segment is called `name`. */
export async function segmentExists(ctx: ModuleContext, name: string): Promise<boolean> {
  return builtinSegment(name) !== undefined || (await segmentByName(ctx.db, name)) !== null;
}
