import type { Command } from 'commander';

/** Global options every command sees (declared on the root program). */
export interface GlobalOptions {
  db?: string;
  databaseUrl?: string;
  json?: boolean;
}

/** Reads the root program's options from inside any subcommand. */
export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/**
 * Prints a command's result: with `--json` exactly one JSON document on stdout,
 * otherwise the human rendering. Logs and progress always go to stderr.
 */
export function emit(cmd: Command, result: unknown, human: () => string): void {
  if (globalsOf(cmd).json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    process.stdout.write(human() + '\n');
  }
}

/** A log line for humans, on stderr so stdout stays machine-readable. */
export function log(message: string): void {
  process.stderr.write(message + '\n');
}
