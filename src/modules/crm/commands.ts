import type { Command } from 'commander';
import { table } from '../../kit/cli/format.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import type { CustomerSummary, Note, TimelinePage } from './schema.js';

const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : null);

/** Minor units as a plain amount (2 decimals; the JSON has the exact minor units). */
const money = (minor: number | null, currency: string | null) =>
  minor === null ? '—' : `${(minor / 100).toFixed(2)}${currency ? ` ${currency}` : ''}`;

function header(s: CustomerSummary): string {
  const o = s.orders;
  return [
    `${s.id}${s.name ? `  ${s.name}` : ''}${s.email ? `  <${s.email}>` : ''}${s.phone ? `  ${s.phone}` : ''}${s.erasedAt ? '  (erased)' : ''}`,
    `  locale ${s.locale ?? '(store)'}  time zone ${s.timeZone ?? '(store)'}`,
    `  orders ${o.count ?? '—'}  net revenue ${money(o.netRevenueMinor, o.currency)}  first ${when(o.firstAt) ?? '—'}  last ${when(o.lastAt) ?? '—'}${o.scoresAt ? '' : '  (scores never computed: retain segments refresh)'}`,
    ...(s.clv
      ? [
          `  CLV ${money(s.clv.clvMinor, s.clv.currency)}  P(alive) ${s.clv.pAlive.toFixed(2)}  (${s.clv.modelVersion}, as of ${when(s.clv.asOf)})`,
        ]
      : []),
    ...(s.loyalty
      ? [
          `  loyalty ${s.loyalty.tier ?? 'no tier'}  ${s.loyalty.points} points (${s.loyalty.pending} pending)`,
        ]
      : []),
    `  open tasks ${s.openTasks}  tags ${s.tags.join(', ') || '—'}`,
  ].join('\n');
}

const timelineTable = (r: TimelinePage) =>
  table(
    ['at (UTC)', 'kind', 'what'],
    r.data.map((e) => [when(e.at), e.kind, e.title]),
  );

const notesTable = (notes: Note[]) =>
  table(
    ['id', 'written (UTC)', 'by', 'note'],
    notes.map((n) => [n.id, `${when(n.createdAt)}${n.edited ? ' *' : ''}`, n.author.name, n.body]),
  );

/**
 * `retain customers timeline`, `retain notes add|list`, `retain tags add|remove`: the customer 360
 * (docs/customer360.md). The CLI acts as an admin, authoring as `cli`.
 */
export function registerCrm(program: Command, cli: CliRuntime): void {
  const customers = program
    .command('customers')
    .description("the customer 360: one customer's header and timeline (docs/customer360.md)");
  customers
    .command('timeline <id>')
    .description(
      'who the customer is, their figures, and their timeline newest first: orders, refunds, events, messages, consents, points, tasks, notes, tags, flows',
    )
    .option(
      '--kinds <kinds>',
      'only these kinds, comma-separated (order,refund,note; message takes message.open, …)',
    )
    .option('--limit <n>', 'entries per page (1–500)', '50')
    .option('--cursor <cursor>', 'the nextCursor of the previous page')
    .action(async (id: string, o: { kinds?: string; limit: string; cursor?: string }, cmd: Command) => {
      const { customerTimeline } = await import('./service.js');
      const query: Record<string, string> = { limit: o.limit };
      if (o.kinds !== undefined) query.kinds = o.kinds;
      if (o.cursor !== undefined) query.cursor = o.cursor;
      const r = await cli.withContext(cmd, (ctx) => customerTimeline(ctx, { id, query }));
      emit(cmd, r, () =>
        [
          header(r.customer),
          '',
          r.data.length === 0 ? 'nothing on the timeline' : timelineTable(r),
          ...(r.nextCursor ? [`more: --cursor ${r.nextCursor}`] : []),
        ].join('\n'),
      );
    });

  const notes = program.command('notes').description("notes on a customer (the customer 360's)");
  notes
    .command('add <customer> <text>')
    .description('write a note on a customer (author: cli)')
    .action(async (customer: string, text: string, _o: unknown, cmd: Command) => {
      const { addNote, CLI_ACTOR } = await import('./service.js');
      const n = await cli.withContext(cmd, (ctx) =>
        addNote(ctx, { id: customer, body: { body: text }, by: CLI_ACTOR }),
      );
      emit(cmd, n, () => `note ${n.id} on ${n.customer}`);
    });
  notes
    .command('list <customer>')
    .description("a customer's notes, newest first")
    .option('--limit <n>', 'notes per page (1–500)', '50')
    .option('--cursor <cursor>', 'the nextCursor of the previous page')
    .action(async (customer: string, o: { limit: string; cursor?: string }, cmd: Command) => {
      const { listNotes } = await import('./service.js');
      const query: Record<string, string> = { limit: o.limit };
      if (o.cursor !== undefined) query.cursor = o.cursor;
      const r = await cli.withContext(cmd, (ctx) => listNotes(ctx, { id: customer, query }));
      emit(cmd, r, () =>
        r.data.length === 0
          ? 'no notes'
          : notesTable(r.data) + (r.nextCursor ? `\nmore: --cursor ${r.nextCursor}` : ''),
      );
    });

  const tags = program.command('tags').description("a customer's tags, recorded on their timeline");
  for (const [name, what] of [
    ['add', 'tag a customer'],
    ['remove', 'untag a customer'],
  ] as const)
    tags
      .command(`${name} <customer> <tag>`)
      .description(what)
      .action(async (customer: string, tag: string, _o: unknown, cmd: Command) => {
        const { addTag, removeTag, CLI_ACTOR } = await import('./service.js');
        const change = name === 'add' ? addTag : removeTag;
        const r = await cli.withContext(cmd, (ctx) => change(ctx, { id: customer, tag, by: CLI_ACTOR }));
        emit(
          cmd,
          r,
          () =>
            `${r.id}: ${r.tags.join(', ') || '(no tags)'}${r.changed ? '' : name === 'add' ? ' (had it already)' : ' (did not have it)'}`,
        );
      });
}
