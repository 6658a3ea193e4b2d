import type { Queryable } from '../../storage/port.js';

/** Remembers which Retain external id a platform's own id stands for (first mapping wins). */
export async function rememberRef(
  db: Queryable,
  source: string,
  kind: string,
  ref: string,
  externalId: string,
): Promise<void> {
  await db.exec(
    `INSERT INTO external_refs (source, kind, ref, external_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [source, kind, ref, externalId],
  );
}

export async function lookupRef(
  db: Queryable,
  source: string,
  kind: string,
  ref: string,
): Promise<string | undefined> {
  const rows = await db.query<{ external_id: string }>(
    `SELECT external_id FROM external_refs WHERE source = $1 AND kind = $2 AND ref = $3`,
    [source, kind, ref],
  );
  return rows[0]?.external_id;
}
