import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { jsonFile } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import { invalid } from '../../shared/errors.js';
import type { Member, Redemption } from './schema.js';

const int = (flag: string) => (v: string) => {
  if (!/^-?\d+$/.test(v.trim())) throw invalid(`expected a whole number, got '${v}'`, { field: flag });
  return Number(v);
};

function memberLine(m: Member): string {
  const lines = [
    `${m.customer}  card ${m.cardNumber}  tier ${m.tier ?? '—'}  enrolled ${m.enrolledAt.slice(0, 10)}`,
    `  available ${m.available}${m.currency ? ` (worth ${(m.valueMinor / 100).toFixed(2)} ${m.currency})` : ''}  pending ${m.pending}${m.debt ? `  owed ${m.debt}` : ''}`,
  ];
  for (const e of m.expiringSoon)
    lines.push(`  ${e.points} expire ${e.expiresAt.slice(0, 16).replace('T', ' ')} UTC`);
  if (m.nextTier) lines.push(`  ${m.nextTier.missing} more to ${m.nextTier.name}`);
  return lines.join('\n');
}

const redemptionLine = (r: Redemption) =>
  `redemption ${r.id}: ${r.points} points = ${r.valueMinor} minor ${r.currency}` +
  (r.code ? `, code ${r.code} (until ${r.expiresAt?.slice(0, 10)})` : `, order ${r.order}`) +
  ` — ${r.status}`;

/** `retain loyalty …`: the programme, members, redemptions, adjustments, the sweep and the report. */
export function registerLoyalty(program: Command, cli: CliRuntime): void {
  const loyalty = program
    .command('loyalty')
    .description('loyalty programme: points, tiers, redemptions (docs/loyalty.md)');

  const prog = loyalty.command('program').description('the programme rules (versioned)');
  prog
    .command('show')
    .description('the rules in force')
    .action(async (_o: unknown, cmd: Command) => {
      const { getProgram } = await import('./service.js');
      const p = await cli.withContext(cmd, (ctx) => getProgram(ctx));
      emit(cmd, p, () => `version ${p.version} (${p.createdAt})\n${JSON.stringify(p.config, null, 2)}`);
    });
  prog
    .command('set')
    .description('save rules from a JSON file as the next version')
    .requiredOption('--file <file>', 'the programme as JSON (docs/loyalty.md#programme)')
    .action(async (opts: { file: string }, cmd: Command) => {
      const body = await jsonFile(opts.file, '--file');
      const { setProgram } = await import('./service.js');
      const p = await cli.withContext(cmd, (ctx) => setProgram(ctx, body, 'cli'));
      emit(cmd, p, () => `saved programme version ${p.version}`);
    });
  prog
    .command('versions')
    .description('every version, newest first')
    .action(async (_o: unknown, cmd: Command) => {
      const { programHistory } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => programHistory(ctx));
      emit(
        cmd,
        list,
        () =>
          list.map((p) => `version ${p.version}  ${p.createdAt}  ${p.createdBy ?? ''}`).join('\n') ||
          'no programme yet',
      );
    });

  loyalty
    .command('enrol <customer>')
    .description('enrol a customer (the shop id); the welcome bonus if the programme has one')
    .action(async (customer: string, _o: unknown, cmd: Command) => {
      const { enrol } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => enrol(ctx, { customer, source: 'cli' }));
      emit(cmd, r, () => `${r.created ? 'enrolled' : 'already a member'}\n${memberLine(r.member)}`);
    });
  loyalty
    .command('member <customer>')
    .description("a member's balance, pending points, tier and what expires soon")
    .action(async (customer: string, _o: unknown, cmd: Command) => {
      const { getMember } = await import('./service.js');
      const m = await cli.withContext(cmd, (ctx) => getMember(ctx, { customer }));
      emit(cmd, m, () => memberLine(m));
    });
  loyalty
    .command('ledger <customer>')
    .description("a member's ledger entries, newest first")
    .option('--limit <n>', 'entries', int('--limit'), 50)
    .action(async (customer: string, opts: { limit: number }, cmd: Command) => {
      const { memberLedger } = await import('./service.js');
      const page = await cli.withContext(cmd, (ctx) => memberLedger(ctx, { customer, limit: opts.limit }));
      emit(
        cmd,
        page,
        () =>
          page.data
            .map(
              (e) =>
                `${e.occurredAt.slice(0, 16).replace('T', ' ')}  ${e.type.padEnd(8)} ${String(e.availableDelta).padStart(7)} avail ${String(e.pendingDelta).padStart(7)} pend  ${e.order ? `order ${e.order} ` : ''}${e.reason ?? ''}`,
            )
            .join('\n') || 'no entries',
      );
    });
  loyalty
    .command('redeem <customer> <points>')
    .description('spend points for a discount code (or against --order); --key makes a retry safe')
    .requiredOption('--key <idempotencyKey>', 'a key of your choosing; the same key never spends twice')
    .option('--order <orderId>', 'spend against this order instead of issuing a code')
    .action(async (customer: string, points: string, opts: { key: string; order?: string }, cmd: Command) => {
      const { redeem } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        redeem(
          ctx,
          {
            customer,
            points: int('<points>')(points),
            idempotencyKey: opts.key,
            ...(opts.order ? { order: opts.order } : {}),
          },
          'cli',
        ),
      );
      emit(cmd, r, () => `${r.replayed ? '(already done) ' : ''}${redemptionLine(r.redemption)}`);
    });
  loyalty
    .command('reverse <redemptionId>')
    .description('give the points of a cancelled order or unused code back')
    .option('--reason <text>', 'why', 'cancelled')
    .action(async (id: string, opts: { reason: string }, cmd: Command) => {
      const { reverseRedemption } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        reverseRedemption(ctx, { id: int('<redemptionId>')(id), body: { reason: opts.reason }, by: 'cli' }),
      );
      emit(cmd, r, () => `${r.reversed ? 'reversed' : 'already reversed'}: ${redemptionLine(r.redemption)}`);
    });
  loyalty
    .command('adjust <customer> <points>')
    .description('add (+) or take away (−) points by hand, with a reason')
    .requiredOption('--reason <text>', 'shown in the ledger')
    .requiredOption('--key <idempotencyKey>', 'the same key applies once')
    .option('--expiry-days <n>', 'for an addition: days until it expires', int('--expiry-days'))
    .action(
      async (
        customer: string,
        points: string,
        opts: { reason: string; key: string; expiryDays?: number },
        cmd: Command,
      ) => {
        const { adjust } = await import('./service.js');
        const r = await cli.withContext(cmd, (ctx) =>
          adjust(
            ctx,
            {
              customer,
              points: int('<points>')(points),
              reason: opts.reason,
              idempotencyKey: opts.key,
              ...(opts.expiryDays !== undefined ? { expiryDays: opts.expiryDays } : {}),
            },
            'cli',
          ),
        );
        emit(cmd, r, () => `${r.applied ? 'applied' : 'already applied'}\n${memberLine(r.member)}`);
      },
    );
  loyalty
    .command('action <customer> <action> <reference>')
    .description('points for an action the programme names (review, survey, referral …), once per reference')
    .action(async (customer: string, action: string, reference: string, _o: unknown, cmd: Command) => {
      const { rewardAction } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => rewardAction(ctx, { customer, action, reference }));
      emit(
        cmd,
        r,
        () => `${r.granted ? `granted ${r.points} points` : 'already granted'}\n${memberLine(r.member)}`,
      );
    });
  loyalty
    .command('report')
    .description('liability by expiry month, earn and burn, redemptions, members vs matched non-members')
    .option('--from <instant>', 'start of the period, an ISO instant (default: 12 months before --to)')
    .option('--to <instant>', 'end of the period, an ISO instant (default: now)')
    .option('--window-days <n>', 'days after joining over which members and non-members are compared', '180')
    .option('--out <file>', 'write the report as Markdown to a file')
    .action(async (opts: { from?: string; to?: string; windowDays: string; out?: string }, cmd: Command) => {
      const { loyaltyReport, loyaltyReportMarkdown } = await import('./reports.js');
      const r = await cli.withContext(cmd, (ctx) =>
        loyaltyReport(ctx, {
          ...(opts.from ? { from: opts.from } : {}),
          ...(opts.to ? { to: opts.to } : {}),
          windowDays: opts.windowDays,
        }),
      );
      if (opts.out) {
        await writeFile(opts.out, loyaltyReportMarkdown(r)).catch((err: Error) => {
          throw invalid(`cannot write ${opts.out}: ${err.message}`, { field: '--out' });
        });
      }
      emit(cmd, r, () => (opts.out ? `wrote ${opts.out}` : loyaltyReportMarkdown(r)));
    });
  loyalty
    .command('sweep')
    .description(
      'release, expire, birthday bonuses, expiry notices and tier downgrades due now (the hourly job)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const { sweep } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => sweep(ctx));
      emit(
        cmd,
        r,
        () =>
          `settled ${r.settledMembers} members, ${r.birthdayGrants} birthday bonuses, ${r.expiringNotices} expiry notices, tiers ${r.tiersUp} up / ${r.tiersDown} down`,
      );
    });
}
