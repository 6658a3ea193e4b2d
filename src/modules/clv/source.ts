import { openDatabase } from '../../storage/open.js';
import type { ClvStorage, DatabaseTarget } from './repository.js';
import { loadSales, savePredictions } from './repository.js';

const open = (t: DatabaseTarget) =>
  openDatabase(t.databaseUrl ? { databaseUrl: t.databaseUrl } : { db: t.db ?? './retain.duckdb' });

/** The CLV commands' storage: orders in, predictions out, on the store named by --db / --database-url. */
export const clvStorage: Required<ClvStorage> = {
  loadOrders: async (opts) => {
    const db = await open(opts);
    try {
      return await loadSales(db, opts.until);
    } finally {
      await db.close();
    }
  },
  storePredictions: async (target, rows) => {
    const db = await open(target);
    try {
      await db.transaction((tx) => savePredictions(tx, rows, new Date()));
    } finally {
      await db.close();
    }
  },
};
