import type { Command } from 'commander';
import { rm, writeFile } from 'node:fs/promises';
import { table } from '../../kit/cli/format.js';
import { emit, globalsOf, log } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import type { AudienceExportResult } from './audienceSchema.js';

/** One line about an export: what it holds and what changed. */
function summary(r: AudienceExportResult, out?: string): string {
  const e = r.export;
  const parts = [
    `export ${e.id} of ${e.segment} (${e.kind}): ${e.rows.toLocaleString('en-US')} of ${e.members.toLocaleString('en-US')} members`,
  ];
  if (r.skipped)
    parts.push(
      `left out: ${r.skipped.noConsent} without ads consent, ${r.skipped.noAddress} without a usable email or phone` +
        (r.skipped.unusablePhones ? `, ${r.skipped.unusablePhones} phones not in international form` : ''),
    );
  const c = r.changes;
  parts.push(
    c.previousExportId === null
      ? 'first export of this segment and kind: everyone is added'
      : `since export ${c.previousExportId}: ${c.added} added, ${c.removed} removed` +
          (c.removedUnlisted ? ` (${c.removedUnlisted} no longer known, not listed)` : ''),
  );
  if (out) parts.push(`${r.csvRows.toLocaleString('en-US')} rows written to ${out}`);
  return parts.join('\n');
}

/** `retain segments export <name>` and `retain segments exports <name>` (registered from commands.ts). */
export function registerAudienceCommands(segments: Command, cli: CliRuntime): void {
  segments
    .command('export <name>')
    .description(
      'a segment as CSV: SHA-256 email/phone of the members with ads consent (ad platforms), or --plain columns of every member; recorded, so --changes lists who joined and left since the last export',
    )
    .option('--plain', 'chosen columns of every member, no consent filter (the shop’s own use)')
    .option(
      '--columns <list>',
      'with --plain: comma-separated columns (docs/segments.md#audiences; a bad name is refused, listing them)',
    )
    .option('--changes', 'only the customers added and removed since the previous export (a change column)')
    .option('--out <file>', 'write the CSV to a file (else stdout; the summary goes to stderr)')
    .option('--as-of <day>', 'evaluate as of this day (YYYY-MM-DD, store time zone) or instant; default now')
    .addHelpText(
      'after',
      '\nExamples:\n  $ retain segments export vip --out vip-ads.csv\n  $ retain segments export vip --changes --out vip-changes.csv\n  $ retain segments export win-back --plain --columns id,email,first_name,country,orders,revenue_minor,rfm_segment,clv_minor',
    )
    .action(
      async (
        name: string,
        o: { plain?: boolean; columns?: string; changes?: boolean; out?: string; asOf?: string },
        cmd: Command,
      ) => {
        const { exportAudience } = await import('./audience.js');
        const body = {
          kind: o.plain ? 'plain' : 'hashed',
          ...(o.columns !== undefined ? { columns: o.columns } : {}),
          changes: o.changes === true,
          ...(o.asOf !== undefined ? { asOf: o.asOf } : {}),
        };
        const out = o.out;
        // The file is written inside the export's transaction: if it cannot be, nothing is recorded.
        const deliver = out
          ? async (csv: string) => {
              try {
                await writeFile(out, csv);
              } catch (err) {
                await rm(out, { force: true }).catch(() => undefined);
                throw err;
              }
            }
          : undefined;
        const r = await cli.withContext(cmd, (ctx) =>
          exportAudience(ctx, { name, body, by: 'cli', ...(deliver ? { deliver } : {}) }),
        );
        if (out) {
          const { csv: _csv, ...rest } = r;
          emit(cmd, { ...rest, out }, () => summary(r, out));
        } else if (globalsOf(cmd).json) emit(cmd, r, () => '');
        else {
          process.stdout.write(r.csv);
          log(summary(r));
        }
      },
    );
  segments
    .command('exports <name>')
    .description("a segment's recorded audience exports, newest first")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { listAudienceExports } = await import('./audience.js');
      const r = await cli.withContext(cmd, (ctx) => listAudienceExports(ctx, { name }));
      emit(cmd, r, () =>
        table(
          ['id', 'kind', 'made at', 'evaluated at', 'members', 'rows', 'added', 'removed', 'by'],
          r.exports.map((e) => [
            e.id,
            e.kind,
            e.createdAt.slice(0, 19).replace('T', ' '),
            e.asOf.slice(0, 16).replace('T', ' '),
            e.members,
            e.rows,
            e.added ?? '—',
            e.removed ?? '—',
            e.createdBy ?? '',
          ]),
        ),
      );
    });
}
