import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import type { CliRuntime } from '../../kit/module.js';
import { emit } from '../../kit/cli/output.js';

async function readPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.replace(/\r?\n$/, '');
  }
  const env = process.env.RETAIN_USER_PASSWORD;
  if (env) return env;
  throw new AppError(
    'validation',
    'give the password on stdin (--password-stdin) or in RETAIN_USER_PASSWORD',
    {
      where: { field: '--password-stdin' },
    },
  );
}

/**
 * `retain users create|list|disable|enable|set-role|set-password`: web-app logins (scrypt-hashed
 * passwords); the same services as `/v1/users`.
 */
export function registerUsers(program: Command, cli: CliRuntime): void {
  const users = program
    .command('users')
    .description('manage web-app users (password login, session cookies)');
  users
    .command('create')
    .description(
      'create a user; the password comes from stdin or RETAIN_USER_PASSWORD, never the command line',
    )
    .requiredOption('--email <email>', 'login email')
    .requiredOption('--role <role>', 'admin | analyst | marketer | agent')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (opts: { email: string; role: string; passwordStdin?: boolean }, cmd: Command) => {
      const password = await readPassword(opts.passwordStdin === true);
      const { createUser } = await import('./service.js');
      const u = await cli.withContext(cmd, (ctx) =>
        createUser(ctx, { email: opts.email, role: opts.role, password }),
      );
      emit(cmd, u, () => `created ${u.role} user ${u.email}`);
    });
  users
    .command('list')
    .description('list users')
    .action(async (_o: unknown, cmd: Command) => {
      const { listUsers } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => listUsers(ctx));
      emit(cmd, list, () =>
        list.length
          ? list
              .map((u) => `${u.email}  ${u.role}  ${u.disabledAt ? `disabled ${u.disabledAt}` : 'active'}`)
              .join('\n')
          : 'no users yet: retain users create --email you@shop.com --role admin --password-stdin',
      );
    });
  users
    .command('disable')
    .description('disable a user and end their sessions (never the last active admin)')
    .argument('<email>')
    .action(async (email: string, _o: unknown, cmd: Command) => {
      const { disableUser } = await import('./service.js');
      await cli.withContext(cmd, (ctx) => disableUser(ctx, { email }));
      emit(cmd, { email, disabled: true }, () => `disabled ${email}`);
    });
  users
    .command('enable')
    .description('let a disabled user log in again')
    .argument('<email>')
    .action(async (email: string, _o: unknown, cmd: Command) => {
      const { enableUser } = await import('./service.js');
      const u = await cli.withContext(cmd, (ctx) => enableUser(ctx, { email }));
      emit(cmd, u, () => `enabled ${u.role} user ${u.email}`);
    });
  users
    .command('set-role')
    .description("change a user's role (never demotes the last active admin)")
    .argument('<email>')
    .requiredOption('--role <role>', 'admin | analyst | marketer | agent')
    .action(async (email: string, opts: { role: string }, cmd: Command) => {
      const { updateUser } = await import('./service.js');
      const u = await cli.withContext(cmd, (ctx) => updateUser(ctx, { email, role: opts.role }));
      emit(cmd, u, () => `${u.email} is now ${u.role}`);
    });
  users
    .command('set-password')
    .description("reset a user's password (stdin or RETAIN_USER_PASSWORD); their sessions end")
    .argument('<email>')
    .option('--password-stdin', 'read the password from stdin')
    .action(async (email: string, opts: { passwordStdin?: boolean }, cmd: Command) => {
      const password = await readPassword(opts.passwordStdin === true);
      const { updateUser } = await import('./service.js');
      const u = await cli.withContext(cmd, (ctx) => updateUser(ctx, { email, password }));
      emit(cmd, u, () => `new password set for ${u.email}; their sessions ended`);
    });
}
