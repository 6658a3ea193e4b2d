import type { Queryable } from '../../storage/port.js';
import { AppError } from '../../shared/errors.js';
import * as repo from './repository.js';
import { FlowDefinition } from './schema.js';

export const ADVANCE_JOB = 'flows.advance';
/** The messaging ledger's source of a flow's sends. */
export const sourceOf = (name: string) => `flow:${name}`;

/** Parsed definitions per database handle (versions never change; a process may hold several stores). */
const definitions = new WeakMap<Queryable, Map<string, FlowDefinition>>();

/** A flow version's definition (cached: versions never change). */
export async function definitionOf(db: Queryable, flowId: number, version: number): Promise<FlowDefinition> {
  let cache = definitions.get(db);
  if (!cache) definitions.set(db, (cache = new Map()));
  const key = `${flowId}@${version}`;
  let d = cache.get(key);
  if (!d) {
    const text = await repo.definitionOf(db, flowId, version);
    if (text === null) throw new AppError('internal', `flow ${flowId} has no version ${version}`);
    d = FlowDefinition.parse(JSON.parse(text));
    if (cache.size > 500) cache.clear();
    cache.set(key, d);
  }
  return d;
}
