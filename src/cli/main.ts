import { Command, CommanderError } from 'commander';
import { AppError } from '../shared/errors.js';
import { packageVersion } from '../shared/packageRoot.js';
import { commandModules } from './commands/index.js';

/** Builds the `retain` program with its global options and every command. */
export function buildProgram(): Command {
  const program = new Command('retain')
    .description('Retention and customer-lifetime-value analytics for online stores')
    .version(packageVersion(), '-V, --version', 'print the version of retain')
    .option('--db <path>', 'DuckDB file to use', process.env.RETAIN_DB ?? './retain.duckdb')
    .option(
      '--database-url <url>',
      'PostgreSQL URL (or RETAIN_DATABASE_URL); overrides --db',
      process.env.RETAIN_DATABASE_URL,
    )
    .option('--json', 'print exactly one JSON document on stdout')
    .showHelpAfterError()
    .exitOverride();
  for (const register of commandModules) register(program);
  return program;
}

/**
 * Exit codes: 0 done, 1 failed, 2 bad input (validation), 3 the DuckDB file is held by a process that
 * is not a retain server (or the server went away); see README "Running beside retain serve".
 */
const EXIT_CODES: Partial<Record<AppError['code'], number>> = { validation: 2, unavailable: 3 };

/** Entry point used by bin/retain.js: one-line error and non-zero exit on failure. */
export async function main(argv: string[]): Promise<void> {
  // `retain … | head` closes stdout early: that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    const line =
      err instanceof AppError
        ? `retain: ${err.toLine()}`
        : `retain: ${(err as Error)?.message ?? String(err)}`;
    process.stderr.write(line + '\n');
    if (process.env.RETAIN_DEBUG) process.stderr.write(String((err as Error)?.stack) + '\n');
    process.exitCode = err instanceof AppError ? (EXIT_CODES[err.code] ?? 1) : 1;
  }
}
