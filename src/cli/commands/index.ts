import type { Command } from 'commander';
import { registerImport } from './import.js';
import { registerReport } from './report.js';
import { registerBasket } from './basket.js';
import { registerClv } from './clv.js';

/** A CLI command module registers its subcommands on the root program. */
export type CommandModule = (program: Command) => void;

/** Every command module, in the order they appear in `retain --help`. */
export const commandModules: CommandModule[] = [registerImport, registerReport, registerBasket, registerClv];
