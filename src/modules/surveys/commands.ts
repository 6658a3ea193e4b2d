import type { Command } from 'commander';
import { table } from '../../kit/cli/format.js';
import { jsonArg } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import { collect, customerList } from '../messaging/commands.js';
import type { Survey } from './schema.js';

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
    .description('NPS or CSAT, response rate, tasks made, by month')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { surveyResults } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => surveyResults(ctx, { name }));
      emit(cmd, r, () =>
        [
          `${r.survey} (${r.kind}): ${r.answered} answers of ${r.invited} invited` +
            (r.responseRate === null ? '' : ` (${Math.round(r.responseRate * 100)} %)`) +
            `, ${r.withReason} with a reason, ${r.tasks} call tasks`,
          'nps' in r ? `NPS ${r.nps ?? '—'}` : `CSAT ${r.csat ?? '—'} %`,
          table(
            ['month', 'answers', r.kind === 'nps' ? 'NPS' : 'CSAT %'],
            r.months.map((m) => [m.month, String(m.answered), String(m.score)]),
          ),
        ].join('\n'),
      );
    });
  surveys
    .command('answers <name>')
    .description('the answers: customer, score, why')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { surveyAnswers } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => surveyAnswers(ctx, { name }));
      emit(cmd, list, () =>
        table(
          ['answered (UTC)', 'customer', 'score', 'why', 'task'],
          list.map((a) => [
            a.answeredAt.slice(0, 16).replace('T', ' '),
            a.customer,
            String(a.score),
            a.why,
            a.taskId,
          ]),
        ),
      );
    });
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
