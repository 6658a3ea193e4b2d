import type { Command } from 'commander';
import { table } from '../../kit/cli/format.js';
import { jsonArg } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import { invalid } from '../../shared/errors.js';
import { formatMinor, minorDigits } from '../../shared/money.js';
import { registerAudienceCommands } from './audienceCommands.js';

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
const amount = (minor: number, currency: string | null) =>
  currency ? `${formatMinor(minor, minorDigits(currency))} ${currency}` : String(minor);

/** What to evaluate: a saved or built-in segment by name, or `--rule`. */
async function target(name: string | undefined, o: { rule?: string; asOf?: string }) {
  return {
    ...(name !== undefined ? { name } : {}),
    ...(o.rule !== undefined ? { rule: await jsonArg(o.rule, '--rule') } : {}),
    ...(o.asOf !== undefined ? { asOf: o.asOf } : {}),
  };
}

/** `retain segments …` */
export function registerSegmentCommands(program: Command, cli: CliRuntime): void {
  const segments = program
    .command('segments')
    .description('segments: rule trees over customers (attributes, orders, events, RFM, predictions)');
  segments
    .command('list', { isDefault: true })
    .description('built-in and saved segments')
    .action(async (_o: unknown, cmd: Command) => {
      const { listSegments } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => listSegments(ctx));
      emit(cmd, r, () =>
        table(
          ['name', 'kind', 'description'],
          r.segments.map((s) => [s.name, s.builtin ? 'built-in' : 'saved', s.description ?? '']),
        ),
      );
    });
  segments
    .command('show <name>')
    .description('a segment and its rule')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { getSegment } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => getSegment(ctx, { name }));
      emit(
        cmd,
        s,
        () =>
          `${s.name}${s.builtin ? ' (built-in)' : ''}: ${s.description ?? ''}\n${JSON.stringify(s.rule, null, 2)}`,
      );
    });
  segments
    .command('create <file>')
    .description(
      'save a segment from JSON ({name, description?, rule}; a file, @file or inline); replaces one of the same name',
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const body = await jsonArg(file, '<file>');
      const { saveSegment } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => saveSegment(ctx, { body, by: 'cli' }));
      emit(cmd, r, () => `${r.created ? 'created' : 'replaced'} segment ${r.segment.name}`);
    });
  segments
    .command('delete <name>')
    .description('delete a saved segment')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { deleteSegment } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => deleteSegment(ctx, { name }));
      emit(cmd, r, () => `deleted segment ${name}`);
    });
  const evaluated = (c: Command) =>
    c
      .option('--rule <json>', 'a rule tree instead of a name (inline JSON, or a file / @file)')
      .option(
        '--as-of <day>',
        'evaluate as of this day (YYYY-MM-DD, store time zone) or instant; default now',
      );
  evaluated(segments.command('count [name]').description('how many customers a segment holds now')).action(
    async (name: string | undefined, o: { rule?: string; asOf?: string }, cmd: Command) => {
      const input = await target(name, o);
      const { countSegment } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => countSegment(ctx, input));
      emit(cmd, r, () => `${r.count.toLocaleString('en-US')} customers`);
    },
  );
  evaluated(
    segments
      .command('preview [name]')
      .description('count, share, revenue share, who can be reached per channel, and 20 members'),
  ).action(async (name: string | undefined, o: { rule?: string; asOf?: string }, cmd: Command) => {
    const input = await target(name, o);
    const { previewSegment } = await import('./service.js');
    const r = await cli.withContext(cmd, (ctx) => previewSegment(ctx, input));
    emit(cmd, r, () =>
      [
        `${r.count.toLocaleString('en-US')} of ${r.customers.toLocaleString('en-US')} customers (${pct(r.share)}), ` +
          `${amount(r.revenueMinor, r.currency)} revenue (${pct(r.revenueShare)})`,
        `reachable: email ${r.reachable.email}, sms ${r.reachable.sms}, messenger ${r.reachable.messenger}, ads ${r.reachable.ads}`,
        table(
          ['customer', 'email', 'orders', 'revenue', 'last order', 'rfm'],
          r.sample.map((m) => [
            m.id,
            m.email,
            m.orders,
            amount(m.revenueMinor, r.currency),
            m.lastOrderAt?.slice(0, 10) ?? '',
            m.rfmSegment,
          ]),
        ),
      ].join('\n'),
    );
  });
  segments
    .command('members <name>')
    .description('the customers in a segment (a page; --all for every one, as CSV lines with --csv)')
    .option('--as-of <day>', 'evaluate as of this day or instant; default now')
    .option('--limit <n>', 'rows per page (1–1000)', '100')
    .option('--after <cursor>', 'the next page (cursor from the previous one)')
    .option('--all', 'every member')
    .action(
      async (
        name: string,
        o: { asOf?: string; limit: string; after?: string; all?: boolean },
        cmd: Command,
      ) => {
        const service = await import('./service.js');
        if (o.all) {
          const rows = await cli.withContext(cmd, async (ctx) => {
            const out = [];
            for await (const m of service.allMembers(ctx, { name, ...(o.asOf ? { asOf: o.asOf } : {}) }))
              out.push(m);
            return out;
          });
          emit(cmd, { items: rows, nextCursor: null }, () =>
            table(
              ['customer', 'email', 'orders', 'revenue minor'],
              rows.map((m) => [m.id, m.email, m.orders, m.revenueMinor]),
            ),
          );
          return;
        }
        const r = await cli.withContext(cmd, (ctx) =>
          service.segmentMembers(ctx, {
            name,
            query: {
              limit: o.limit,
              ...(o.after ? { after: o.after } : {}),
              ...(o.asOf ? { asOf: o.asOf } : {}),
            },
          }),
        );
        emit(cmd, r, () =>
          [
            table(
              ['customer', 'email', 'orders', 'revenue minor'],
              r.items.map((m) => [m.id, m.email, m.orders, m.revenueMinor]),
            ),
            r.nextCursor ? `more: --after ${r.nextCursor}` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      },
    );
  segments
    .command('refresh')
    .description('recompute the stored scores (order aggregates, RFM, deciles, the latest predictions)')
    .action(async (_o: unknown, cmd: Command) => {
      const { refreshScores } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => refreshScores(ctx));
      emit(
        cmd,
        r,
        () =>
          `scores for ${r.customers.toLocaleString('en-US')} customers (${r.withOrders.toLocaleString('en-US')} with orders, ${r.withPredictions.toLocaleString('en-US')} with predictions) in ${r.seconds.toFixed(1)} s`,
      );
    });
  segments
    .command('fields')
    .description('the fields a rule can use, their operators and parameters')
    .action(async (_o: unknown, cmd: Command) => {
      const { ruleFields } = await import('./service.js');
      const r = ruleFields();
      emit(cmd, r, () =>
        table(
          ['field', 'type', 'operators', 'params', 'meaning'],
          r.fields.map((f) => [f.field, f.type, f.ops.join(', '), f.params.join(', '), f.doc]),
        ),
      );
    });
  segments
    .command('snapshot <name>')
    .description('snapshot a segment: its members, who entered and who left since the last one (with events)')
    .option('--as-of <day>', 'evaluate as of this day or instant; default now')
    .action(async (name: string, o: { asOf?: string }, cmd: Command) => {
      const { snapshotSegment } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => snapshotSegment(ctx, { name, asOf: o.asOf }));
      emit(
        cmd,
        r,
        () =>
          `snapshot ${r.id} of ${name}: ${r.members.toLocaleString('en-US')} members, ${r.entered.toLocaleString('en-US')} entered, ${r.left.toLocaleString('en-US')} left`,
      );
    });
  segments
    .command('snapshots <name>')
    .description("a segment's snapshots, newest first")
    .option('--limit <n>', 'at most this many', '30')
    .action(async (name: string, o: { limit: string }, cmd: Command) => {
      const { listSnapshots } = await import('./service.js');
      const limit = Number(o.limit);
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
        throw invalid(`--limit must be a whole number from 1 to 1000, got '${o.limit}'`, {
          field: '--limit',
        });
      const r = await cli.withContext(cmd, (ctx) => listSnapshots(ctx, { name, limit }));
      emit(cmd, r, () =>
        table(
          ['snapshot', 'taken at', 'as of', 'members', 'entered', 'left'],
          r.snapshots.map((x) => [x.id, x.takenAt, x.asOf, x.members, x.entered, x.left]),
        ),
      );
    });
  segments
    .command('changes <snapshot>')
    .description('who entered and who left at a snapshot')
    .option('--limit <n>', 'rows per page (1–1000)', '100')
    .option('--after <cursor>', 'the next page')
    .action(async (snapshot: string, o: { limit: string; after?: string }, cmd: Command) => {
      const id = Number(snapshot);
      if (!Number.isSafeInteger(id))
        throw invalid(`expected a snapshot id, got '${snapshot}'`, { field: '<snapshot>' });
      const { snapshotChanges } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        snapshotChanges(ctx, { id, query: { limit: o.limit, ...(o.after ? { after: o.after } : {}) } }),
      );
      emit(cmd, r, () =>
        [
          table(
            ['customer', 'change', 'at'],
            r.items.map((x) => [x.id, x.change, x.at]),
          ),
          r.nextCursor ? `more: --after ${r.nextCursor}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });
  segments
    .command('tag <customer>')
    .description("add or remove a customer's tags")
    .option('--add <tag...>', 'tags to add')
    .option('--remove <tag...>', 'tags to remove')
    .action(async (customer: string, o: { add?: string[]; remove?: string[] }, cmd: Command) => {
      const { changeTags } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        changeTags(ctx, { id: customer, body: { add: o.add ?? [], remove: o.remove ?? [] } }),
      );
      emit(cmd, r, () => `${r.id}: ${r.tags.join(', ') || '(no tags)'}`);
    });
  registerAudienceCommands(segments, cli);
}
