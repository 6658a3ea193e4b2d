import type { Dialect } from '../port.js';

/**
 * Platform ids seen in webhooks → Retain's external ids (Shopify refunds name their order by numeric
 * id while orders are keyed by their name `#1001`, as in Shopify's CSV export).
 */
export function webhookSchema(_d: Dialect): string[] {
  return [
    `CREATE TABLE external_refs (
      source TEXT NOT NULL,
      kind TEXT NOT NULL,
      ref TEXT NOT NULL,
      external_id TEXT NOT NULL,
      PRIMARY KEY (source, kind, ref)
    )`,
  ];
}
