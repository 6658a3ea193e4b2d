import type { Migration } from '../../storage/migrations/index.js';

/**
 * When each API key was last used (to the minute: an authentication that finds the key writes it when
 * the stored time is older than that), for the keys page and `retain keys list`. Null: never used since.
 */
export const keyLastUsedMigration: Migration = {
  version: 18,
  name: 'api_key_last_used',
  statements: () => [`ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMP`],
};
