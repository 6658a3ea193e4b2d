import type { BasketSource } from './repository.js';
import { loadBaskets, loadProducts } from '../orders/repository.js';
import type { Database } from '../../storage/port.js';

/**
 * The basket and recommendation services' order source, on the server's own database. It loads the
 * order history per call, as the CLI does: fine for shops of the demo's size; a cached model is the
 * next step for large stores.
 */
export function basketSourceOn(db: Database): BasketSource {
  return {
    loadBaskets: (opts) => loadBaskets(db, opts),
    loadProducts: () => loadProducts(db),
    close: async () => undefined, // the server's database stays open
  };
}
