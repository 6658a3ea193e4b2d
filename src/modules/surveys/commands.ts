import type { Command } from 'commander';
import { table } from '../../kit/cli/format.js';
import { jsonArg } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import { collect, customerList } from '../messaging/commands.js';
import type { AnswersPageOut, Survey, SurveyResults } from './schema.js';

const surveyTable = (list: Survey[]) =>
  table(
    ['name', 'kind', 'status', 'template', 'updated'],
    list.map((s) => [s.name, s.kind, s.status, s.template, s.updatedAt.slice(0, 16).replace('T', ' ')]),
  );

/** `retain surveys save|list|show|invite|results|answers|archive|follow-up` (docs/surveys.md). */
export function registerSurveys(program: Command, cli: CliRuntime): void {
  const surveys = program
    .command('surveys')
    .description(
      'NPS/CSAT surveys: a score one click from the message, then "why"; low scores become call tasks',
    );
  surveys
    .command('save <definition>')
    .description('save a survey from JSON (a file, @file, or inline) and its invitation template')
    .action(async (definition: string, _o: unknown, cmd: Command) => {
      const body = await jsonArg(definition, 'definition');
      const { saveSurvey } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => saveSurvey(ctx, { body, by: 'cli' }));
      emit(cmd, s, () => surveyTable([s]));
    });
  surveys
    .command('list', { isDefault: true })
    .description('the surveys')
    .action(async (_o: unknown, cmd: Command) => {
      const { listSurveys } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => listSurveys(ctx));
      emit(cmd, list, () => surveyTable(list));
    });
  surveys
    .command('show <name>')
    .description('one survey and its definition')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { getSurvey } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => getSurvey(ctx, { name }));
      emit(cmd, s, () => `${surveyTable([s])}\n${JSON.stringify(s.definition, null, 2)}`);
    });
  surveys
    .command('invite <name>')
    .description('invite customers (once per occurrence; the throttle applies)')
    .option('--customer <id>', 'a customer id (repeatable)', collect)
    .option('--customers <file>', 'a file of customer ids, one per line')
    .requiredOption(
      '--occurrence <text>',
      'what this round is (an order id, a month): invites once per customer',
    )
    .action(
      async (
        name: string,
        o: { customer?: string[]; customers?: string; occurrence: string },
        cmd: Command,
      ) => {
        const customers = await customerList(o);
        const { inviteToSurvey } = await import('./service.js');
        const r = await cli.withContext(cmd, (ctx) =>
          inviteToSurvey(ctx, { name, body: { customers, occurrence: o.occurrence } }),
        );
        emit(
          cmd,
          r,
          () =>
            `invited ${r.invited}, already invited ${r.alreadyInvited}, throttled ${r.throttled}` +
            r.skipped.map((s) => `\n  skipped ${s.customer}: ${s.reason}`).join(''),
        );
      },
    );
  surveys
    .command('results <name>')
    .description(
      'NPS or CSAT, response rate, tasks, by month; by segment, channel, product and cohort; next to CLV; the effect of resolved low scores',
    )
    .option('--window <days>', 'days after (and before) an answer whose purchases count', '90')
    .action(async (name: string, o: { window: string }, cmd: Command) => {
      const { surveyResults } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        surveyResults(ctx, { name, query: { window: o.window } }),
      );
      const kindName = r.kind === 'nps' ? 'NPS' : 'CSAT %';
      const money = (m: number | null) => (m === null ? '—' : String(m));
      const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)} %`);
      const breakdown = (title: string, b: SurveyResults['by']['channel']) =>
        b.groups.length === 0
          ? `${title}: none`
          : `${title}${b.more ? ` (largest ${b.groups.length}; ${b.more} more)` : ''}\n` +
            table(
              [title.toLowerCase(), 'answers', kindName, '95 % interval'],
              b.groups.map((g) => [
                g.label ? `${g.label} (${g.key})` : g.key,
                String(g.answered) + (g.few ? ' (few)' : ''),
                String(g.score),
                `${g.interval95[0]} … ${g.interval95[1]}`,
              ]),
            );
      emit(cmd, r, () =>
        [
          `${r.survey} (${r.kind}): ${r.answered} answers of ${r.invited} invited` +
            (r.responseRate === null ? '' : ` (${Math.round(r.responseRate * 100)} %)`) +
            `, ${r.withReason} with a reason, ${r.tasks} call tasks`,
          `${r.kind === 'nps' ? `NPS ${r.nps ?? '—'}` : `CSAT ${r.csat ?? '—'} %`}` +
            (r.interval95 ? ` (95 % interval ${r.interval95[0]} … ${r.interval95[1]})` : ''),
          table(
            ['month', 'answers', kindName],
            r.months.map((m) => [m.month, String(m.answered), String(m.score)]),
          ),
          breakdown('Segment', r.by.segment),
          breakdown('Channel', r.by.channel),
          breakdown('Product', r.by.product),
          breakdown('Cohort', r.by.cohort),
          ...(r.value
            ? [
                `Next to CLV (${r.value.currency}, minor units; purchases within ${r.value.windowDays} days of the answer)`,
                table(
                  ['band', 'customers', 'mean CLV', 'net to date', 'bought again', 'net after'],
                  r.value.bands.map((b) => [
                    b.band,
                    String(b.customers),
                    money(b.meanClvMinor),
                    money(b.meanNetToDateMinor),
                    pct(b.repeatRate),
                    money(b.revenueAfterMinor),
                  ]),
                ),
                r.value.verdict,
              ]
            : []),
          ...(r.effect
            ? [
                `Low scores (≤ ${r.effect.lowScoreAtMost}): task done against not`,
                table(
                  [
                    '',
                    'low scores',
                    'old enough',
                    'bought again',
                    'net after',
                    'bought before',
                    'net before',
                  ],
                  (['resolved', 'unresolved'] as const).map((k) => {
                    const g = r.effect![k];
                    return [
                      k,
                      String(g.lowScores),
                      String(g.matured),
                      pct(g.repeatRate),
                      money(g.revenueAfterMinor),
                      pct(g.boughtBefore),
                      money(g.revenueBeforeMinor),
                    ];
                  }),
                ),
                r.effect.verdict,
              ]
            : []),
          ...r.notes,
        ].join('\n'),
      );
    });
  surveys
    .command('answers <name>')
    .description('the answers, newest first: customer, score, why, task')
    .option('--band <band>', 'one band: detractor|passive|promoter (NPS), unhappy|neutral|happy (CSAT)')
    .option('--limit <n>', 'answers per page (1–500)', '50')
    .option('--cursor <cursor>', 'the next page (printed after a page)')
    .option('--all', 'every page')
    .action(
      async (
        name: string,
        o: { band?: string; limit: string; cursor?: string; all?: boolean },
        cmd: Command,
      ) => {
        const { surveyAnswers } = await import('./service.js');
        const { list, next } = await cli.withContext(cmd, async (ctx) => {
          const all: AnswersPageOut['data'] = [];
          let cursor = o.cursor;
          for (;;) {
            const p = await surveyAnswers(ctx, {
              name,
              query: { limit: o.all ? '500' : o.limit, band: o.band, cursor },
            });
            all.push(...p.data);
            if (!o.all || p.nextCursor === null) return { list: all, next: p.nextCursor };
            cursor = p.nextCursor;
          }
        });
        emit(
          cmd,
          o.all ? list : { data: list, nextCursor: next },
          () =>
            table(
              ['answered (UTC)', 'customer', 'score', 'why', 'task'],
              list.map((a) => [
                a.answeredAt.slice(0, 16).replace('T', ' '),
                a.customer,
                String(a.score),
                a.why,
                a.taskId,
              ]),
            ) + (next && !o.all ? `\nmore: --cursor ${next}` : ''),
        );
      },
    );
  surveys
    .command('archive <name>')
    .description('archive a survey: no new invitations')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { archiveSurvey } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => archiveSurvey(ctx, { name }));
      emit(cmd, s, () => surveyTable([s]));
    });
  surveys
    .command('follow-up')
    .description('ask again the customers whose survey task is done (the hourly job does this)')
    .action(async (_o: unknown, cmd: Command) => {
      const { sendFollowUps } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => sendFollowUps(ctx));
      emit(cmd, r, () => `invited ${r.invited}`);
    });
}
