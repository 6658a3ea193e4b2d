import type { Command } from 'commander';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import type { SiteKey } from './schema.js';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

const keyLine = (k: SiteKey) =>
  `${k.key}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}  ${k.requireConsent ? 'consent required  ' : ''}` +
  `${k.origins.join(' ')}  ${k.name}`;

/** `retain storefront key create|list|revoke` and `retain storefront snippet` (docs/storefront.md). */
export function registerStorefront(program: Command, cli: CliRuntime): void {
  const storefront = program
    .command('storefront')
    .description('the storefront tracking snippet: site keys and the tag to paste (docs/storefront.md)');
  const key = storefront.command('key').description('publishable site keys (pk_…) of the snippet');
  key
    .command('create')
    .description('create a site key for the origins the snippet runs on (it is public: it is in every page)')
    .requiredOption(
      '--origin <origin>',
      'an origin of the shop, e.g. https://shop.example (repeatable)',
      collect,
    )
    .option('--name <name>', 'what the key is for')
    .option(
      '--require-consent',
      'the store asks visitors first: nothing is sent or set before retain("consent", true)',
    )
    .action(async (opts: { origin: string[]; name?: string; requireConsent?: boolean }, cmd: Command) => {
      const { createSiteKey } = await import('./service.js');
      const k = await cli.withContext(cmd, (ctx) =>
        createSiteKey(ctx, {
          origins: opts.origin,
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.requireConsent ? { requireConsent: true } : {}),
        }),
      );
      emit(cmd, k, () =>
        [
          `created site key ${k.key} for ${k.origins.join(', ')}${k.requireConsent ? ' (consent required)' : ''}`,
          'It is public (it goes into every page). The tag to paste: retain storefront snippet --endpoint <URL of retain serve>',
        ].join('\n'),
      );
    });
  key
    .command('list')
    .description('list site keys')
    .action(async (_opts: unknown, cmd: Command) => {
      const { listSiteKeys } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => listSiteKeys(ctx));
      emit(cmd, list, () =>
        list.length === 0
          ? 'no site keys yet: retain storefront key create --origin https://shop.example'
          : list.map(keyLine).join('\n'),
      );
    });
  key
    .command('revoke')
    .description('revoke a site key (a running server refuses its batches within 5 s)')
    .argument('<key>', 'the pk_… key')
    .action(async (siteKey: string, _opts: unknown, cmd: Command) => {
      const { revokeSiteKey } = await import('./service.js');
      const k = await cli.withContext(cmd, (ctx) => revokeSiteKey(ctx, { key: siteKey }));
      emit(cmd, k, () => `revoked ${k.key}`);
    });
  storefront
    .command('snippet')
    .description('print the <script> tags to paste into every page of the shop')
    .option('--key <key>', 'the site key (default: the only active one)')
    .option(
      '--endpoint <url>',
      'where shoppers reach retain serve (default: the messaging policy’s publicUrl)',
    )
    .action(async (opts: { key?: string; endpoint?: string }, cmd: Command) => {
      const { snippet } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => snippet(ctx, { key: opts.key, endpoint: opts.endpoint }));
      emit(cmd, s, () => s.html);
    });
}
