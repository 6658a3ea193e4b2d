import { openDatabase } from '../../storage/open.js';
import { loadBaskets, loadProducts } from '../orders/repository.js';
import type { OpenBasketSource } from './repository.js';

/** The basket commands' data source: the store named by the CLI's --db / --database-url. */
export const openBasketSource: OpenBasketSource = async (globals) => {
  const db = await openDatabase(
    globals.databaseUrl ? { databaseUrl: globals.databaseUrl } : { db: globals.db ?? './retain.duckdb' },
  );
  return {
    loadBaskets: (opts) => loadBaskets(db, opts),
    loadProducts: () => loadProducts(db),
    close: () => db.close(),
  };
};
