import type { Queryable } from '../storage/port.js';

/**
 * What a module does to its own customer-owned tables when the customers service erases or merges
 * customers. Each hook runs inside the customers service's transaction (`tx`): it commits or rolls
 * back with the rest, so a hook must write only through `tx`.
 */
export interface CustomerHooks {
  /**
   * The tables with a `customer_id` column this module owns and handles here (a test compares them
   * with the database catalog: a new customer-owned table must be claimed by some module).
   */
  readonly tables: readonly string[];
  /** GDPR erasure of one customer (internal id): remove or blank the module's personal data. */
  erase?(tx: Queryable, customerId: number, now: Date): Promise<void>;
  /**
   * Duplicates merged: the rows of `fromIds` (internal ids) become `intoId`'s, or are dropped when they
   * are derived data recomputed later. The merged customers' rows are deleted after every hook ran.
   */
  merge?(tx: Queryable, fromIds: readonly number[], intoId: number, now: Date): Promise<void>;
}

/** One module's hooks, named by the module. */
export interface NamedCustomerHooks extends CustomerHooks {
  readonly module: string;
}

let registered: readonly NamedCustomerHooks[] | undefined;

/**
 * Sets every module's customer hooks. `src/modules/registry.ts` calls it once when it is loaded (the
 * server, the CLI, the job runner and `openStore` all load it), so services can reach other modules'
 * hooks without importing the registry (which imports them).
 */
export function registerCustomerHooks(hooks: readonly NamedCustomerHooks[]): void {
  registered = hooks;
}

/** Every module's customer hooks, in registry order. */
export function customerHooks(): readonly NamedCustomerHooks[] {
  if (!registered)
    throw new Error(
      'customer hooks are not registered: load src/modules/registry.ts (openStore does) before erasing or merging customers',
    );
  return registered;
}

/** Internal customer ids as an SQL list (`3, 8, 11`) — integers only, checked. */
export function sqlIds(ids: readonly number[]): string {
  if (ids.length === 0 || !ids.every((id) => Number.isSafeInteger(id)))
    throw new Error(`expected internal customer ids, got ${JSON.stringify(ids)}`);
  return ids.join(', ');
}

/** The shop id an erased customer is left with (`erased-<internal id>`; the shop's own may be an email). */
export function erasedExternalId(customerId: number): string {
  return `erased-${customerId}`;
}
