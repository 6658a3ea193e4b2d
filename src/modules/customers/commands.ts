import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { table } from '../../kit/cli/format.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import { invalid } from '../../shared/errors.js';

/** `retain contacts export|erase` (GDPR), `retain contacts duplicates|merge` and `retain consent set|link|history` (the consent ledger). */
export function registerContacts(program: Command, cli: CliRuntime): void {
  const contacts = program
    .command('contacts')
    .description('contacts: GDPR export and erasure, duplicates and their merge');
  contacts
    .command('export <id>')
    .description('everything kept about one customer, as JSON (stdout, or --out)')
    .option('--out <file>', 'write the JSON here')
    .action(async (id: string, o: { out?: string }, cmd: Command) => {
      const { exportCustomer } = await import('./service.js');
      const data = await cli.withContext(cmd, (ctx) => exportCustomer(ctx, { id }));
      if (o.out) {
        await writeFile(o.out, JSON.stringify(data, null, 2) + '\n');
        emit(cmd, { id, out: o.out }, () => `exported ${id} to ${o.out}`);
      } else process.stdout.write(JSON.stringify(data, null, 2) + '\n');
    });
  contacts
    .command('erase <id>')
    .description(
      'erase one customer: personal data removed, orders kept anonymous, never messaged again (logged)',
    )
    .option('--yes', 'confirm: erasure cannot be undone')
    .action(async (id: string, o: { yes?: boolean }, cmd: Command) => {
      if (!o.yes) throw invalid('erasure cannot be undone: add --yes', { field: '--yes' });
      const { eraseCustomer } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => eraseCustomer(ctx, { id, by: 'cli' }));
      emit(cmd, r, () => `erased ${r.erased}; its orders stay as ${r.nowKnownAs}`);
    });

  contacts
    .command('duplicates')
    .description('groups of customers sharing a canonical email, and separately a phone number')
    .option('--limit <n>', 'at most this many groups per kind, largest first', '100')
    .action(async (o: { limit: string }, cmd: Command) => {
      const { DuplicatesQuery } = await import('./schema.js');
      const q = DuplicatesQuery.safeParse({ limit: o.limit });
      if (!q.success)
        throw invalid(`--limit: ${q.error.issues[0]?.message ?? 'invalid'}`, { field: '--limit' });
      const { listDuplicates } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => listDuplicates(ctx, q.data));
      emit(cmd, r, () =>
        (['email', 'phone'] as const)
          .map(
            (k) =>
              `${k}: ${r[k].groups} groups, ${r[k].customers} customers\n` +
              (r[k].data.length
                ? table(
                    [k, 'count', 'customers (oldest first)'],
                    r[k].data.map((g) => [g.key, String(g.count), g.customers.join(' ')]),
                  )
                : ''),
          )
          .join('\n'),
      );
    });
  contacts
    .command('merge <into> <from...>')
    .description(
      'merge duplicates into one customer: orders, events, consents, messages…; the merged ids become aliases',
    )
    .option('--yes', 'confirm: a merge cannot be undone')
    .action(async (into: string, from: string[], o: { yes?: boolean }, cmd: Command) => {
      if (!o.yes) throw invalid('a merge cannot be undone: add --yes', { field: '--yes' });
      const { mergeCustomers } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => mergeCustomers(ctx, { id: into, body: { from } }));
      emit(
        cmd,
        r,
        () =>
          `merged ${r.merged.join(', ')} into ${r.into}` +
          (r.filled.length ? `; filled ${r.filled.join(', ')}` : '') +
          (r.consentsChanged.length
            ? `; consent now from a merged customer: ${r.consentsChanged.join(', ')}`
            : ''),
      );
    });

  const consent = program.command('consent').description("a customer's consent per channel, and its ledger");
  consent
    .command('set <id> <channel> <status>')
    .description(
      'record a decision (channel: email, sms, messenger, ads; status: granted, denied, unsubscribed, unknown)',
    )
    .option('--source <source>', 'where it was given', 'cli')
    .option('--at <instant>', 'when (ISO 8601; default now)')
    .option('--form-text <text>', 'the wording the contact agreed to')
    .action(
      async (
        id: string,
        channel: string,
        status: string,
        o: { source: string; at?: string; formText?: string },
        cmd: Command,
      ) => {
        const { ConsentUpdate } = await import('./schema.js');
        const body = ConsentUpdate.safeParse({
          status,
          source: o.source,
          ...(o.at ? { changedAt: o.at } : {}),
          ...(o.formText ? { proof: { formText: o.formText } } : {}),
        });
        if (!body.success)
          throw invalid(body.error.issues[0]?.message ?? 'invalid consent', { field: '<status>' });
        const { updateConsent } = await import('./service.js');
        const r = await cli.withContext(cmd, (ctx) => updateConsent(ctx, { id, channel, body: body.data }));
        emit(cmd, r, () => `${id}: ${channel} ${status}`);
      },
    );
  consent
    .command('link <id>')
    .description("the contact's preference page link (signed; lets them turn each channel on or off)")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { preferencesLink } = await import('../messaging/preferences.js');
      const r = await cli.withContext(cmd, (ctx) => preferencesLink(ctx, { id }));
      emit(cmd, r, () => r.url);
    });
  consent
    .command('history <id>')
    .description('the consent ledger of one customer, oldest first')
    .option('--channel <channel>', 'one channel only')
    .action(async (id: string, o: { channel?: string }, cmd: Command) => {
      const { consentHistory } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => consentHistory(ctx, { id, channel: o.channel }));
      emit(cmd, r, () =>
        table(
          ['channel', 'status', 'source', 'decided', 'recorded', 'ip'],
          r.data.map((e) => [
            e.channel,
            e.status,
            e.source,
            e.occurredAt ?? '',
            e.recordedAt ?? '',
            e.ip ?? '',
          ]),
        ),
      );
    });
}
