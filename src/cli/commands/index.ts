import type { Command } from 'commander';
import { MODULES } from '../../modules/registry.js';
import { cliRuntime } from '../db.js';
import { registerDemo } from './demo.js';
import { registerServe } from './serve.js';
import { registerWorker } from './worker.js';

/** A CLI command module registers its subcommands on the root program. */
export type CommandModule = (program: Command) => void;

/**
 * Every command, in the order of `retain --help`: the demo, each module's commands, then the server
 * and the worker.
 */
export const commandModules: CommandModule[] = [
  registerDemo,
  ...MODULES.map((m) => (program: Command) => m.commands?.(program, cliRuntime)),
  registerServe,
  registerWorker,
];
