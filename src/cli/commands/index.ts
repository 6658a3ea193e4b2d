import type { Command } from 'commander';
import { registerDemo } from './demo.js';
import { registerImport } from './import.js';
import { registerReport } from './report.js';
import { registerBasket } from './basket.js';
import { registerRecommend } from './recommend.js';
import { registerClv } from './clv.js';

/** A CLI command module registers its subcommands on the root program. */
export type CommandModule = (program: Command) => void;

/** Every command module, in the order they appear in `retain --help`. */
export const commandModules: CommandModule[] = [registerDemo, registerImport, registerReport, registerBasket, registerRecommend, registerClv];
