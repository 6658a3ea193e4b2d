import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerImport } from './import.js';
import { registerReport } from './report.js';
import { registerBasket } from './basket.js';
import { registerRecommend } from './recommend.js';
import { registerClv } from './clv.js';
import { registerServe } from './serve.js';
import { registerKeys } from './keys.js';
import { registerUsers } from './users.js';
import type { OpenBasketSource } from '../../modules/basket/repository.js';
import type { ClvStorage } from '../../modules/clv/repository.js';

// Loaded on first use so `retain --help` and pure commands start without DuckDB.
const openBasketSource: OpenBasketSource = async (g) =>
  (await import('../../modules/basket/source.js')).openBasketSource(g);

const clvStorage: ClvStorage = {
  loadOrders: async (o) => (await import('../../modules/clv/source.js')).clvStorage.loadOrders(o),
  storePredictions: async (t, rows) =>
    (await import('../../modules/clv/source.js')).clvStorage.storePredictions(t, rows),
};

/** A CLI command module registers its subcommands on the root program. */
export type CommandModule = (program: Command) => void;

/** Every command module, in the order they appear in `retain --help`. */
export const commandModules: CommandModule[] = [
  registerDemo,
  registerImport,
  registerReport,
  (p) => registerBasket(p, openBasketSource),
  (p) => registerRecommend(p, openBasketSource),
  (p) => registerClv(p, clvStorage),
  registerServe,
  registerKeys,
  registerUsers,
];
