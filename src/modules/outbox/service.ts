import type { DomainEvent, NewDomainEvent } from '../../kit/events.js';
import { DomainEventType } from '../../kit/events.js';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import type { Database, Dialect, Queryable } from '../../storage/port.js';
import * as repo from './repository.js';

export { recordFrom, type RecordSpec } from './repository.js';

/** Records events in the caller's transaction (they exist iff it commits). */
export function recordEvents(
  tx: Queryable,
  dialect: Dialect,
  events: readonly NewDomainEvent[],
  now: Date,
): Promise<void> {
  return repo.record(tx, dialect, events, now);
}

const isId = (v: unknown): v is { id: number } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as { id?: unknown }).id);

/** GET /v1/domain-events: a page in id order after the cursor, optionally of some types. */
export async function listDomainEvents(
  db: Database,
  q: { limit: number; cursor?: string | undefined; type?: string | undefined; after?: number | undefined },
): Promise<{ data: DomainEvent[]; nextCursor: string | null }> {
  const at = decodeCursor(q.cursor, isId);
  if (q.cursor && !at)
    throw new AppError('validation', 'invalid cursor: pass the nextCursor of the previous page', {
      where: { field: 'cursor' },
    });
  const types = q.type ? [...new Set(q.type.split(',').map((t) => t.trim()))] : undefined;
  for (const t of types ?? [])
    if (!DomainEventType.safeParse(t).success)
      throw new AppError('validation', `unknown event type ${t}`, { where: { field: 'type' } });
  const rows = await repo.listEvents(db, {
    after: at?.id ?? q.after ?? 0,
    ...(types ? { types } : {}),
    limit: q.limit + 1,
  });
  const data = rows.slice(0, q.limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > q.limit && last ? encodeCursor({ id: last.id }) : null };
}
