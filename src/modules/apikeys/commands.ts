import type { Command } from 'commander';
import type { CliRuntime } from '../../kit/module.js';
import { emit } from '../../kit/cli/output.js';

/** `retain keys create|list|revoke`: API keys for `retain serve`. */
export function registerKeys(program: Command, cli: CliRuntime): void {
  const keys = program.command('keys').description('manage API keys for `retain serve` (stored hashed)');
  keys
    .command('create')
    .description('create a key; it is printed once and cannot be shown again')
    .requiredOption('--role <role>', 'admin | analyst | marketer | agent')
    .option('--name <name>', 'what the key is for')
    .action(async (opts: { role: string; name?: string }, cmd: Command) => {
      const { createKey } = await import('./service.js');
      const k = await cli.withContext(cmd, (ctx) => createKey(ctx, opts));
      emit(cmd, k, () =>
        [
          `created ${k.role} key ${k.keyId} (${k.name})`,
          `  ${k.key}`,
          'Store it now: only its hash is kept. Send it as `Authorization: Bearer <key>`.',
        ].join('\n'),
      );
    });
  keys
    .command('list')
    .description('list keys (never their secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { listKeys } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => listKeys(ctx));
      emit(cmd, list, () =>
        list.length === 0
          ? 'no API keys yet: retain keys create --role admin'
          : list
              .map(
                (k) =>
                  `${k.keyId}  ${k.role.padEnd(8)}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}  ` +
                  `${k.lastUsedAt ? `last used ${k.lastUsedAt}` : 'never used'}  ${k.name}`,
              )
              .join('\n'),
      );
    });
  keys
    .command('revoke')
    .description('revoke a key (a running server stops accepting it within 5 s)')
    .argument('<keyId>', 'the id shown by `retain keys list`')
    .action(async (keyId: string, _opts: unknown, cmd: Command) => {
      const { revokeKey } = await import('./service.js');
      await cli.withContext(cmd, (ctx) => revokeKey(ctx, { keyId }));
      emit(cmd, { keyId, revoked: true }, () => `revoked ${keyId}`);
    });
}
