import type { Command } from 'commander';
import { jsonFile } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import type { Flow } from './schema.js';

const line = (f: Flow) =>
  `${f.name}  ${f.status}  v${f.version}  in flow ${f.runs.active}, holdout ${f.runs.holdout}, goal ${f.runs.goal}, done ${f.runs.completed}`;

/** `retain flows …` */
export function registerFlows(program: Command, cli: CliRuntime): void {
  const flows = program
    .command('flows')
    .description('automated flows: a trigger, waits, branches and sends, a goal, a holdout (docs/flows.md)');
  flows
    .command('save <file>')
    .description('save a flow from a JSON file: a new draft, or the next version of the flow')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const body = await jsonFile(file, '<file>');
      const { saveFlow } = await import('./service.js');
      const f = await cli.withContext(cmd, (ctx) => saveFlow(ctx, { body, by: 'cli' }));
      emit(cmd, f, () => `saved ${line(f)}`);
    });
  flows
    .command('list', { isDefault: true })
    .description('flows and their runs')
    .action(async (_o: unknown, cmd: Command) => {
      const { listFlows } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => listFlows(ctx));
      emit(cmd, list, () => list.map(line).join('\n') || 'no flows yet');
    });
  flows
    .command('show <name>')
    .description('one flow: its definition, versions and runs')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { getFlow } = await import('./service.js');
      const f = await cli.withContext(cmd, (ctx) => getFlow(ctx, { name }));
      emit(cmd, f, () => `${line(f)}\n${JSON.stringify(f.definition, null, 2)}`);
    });
  for (const action of ['activate', 'pause', 'archive'] as const)
    flows
      .command(`${action} <name>`)
      .description(
        action === 'activate'
          ? 'activate (or resume) a flow'
          : action === 'pause'
            ? 'pause a flow: nobody enters, runs wait where they are'
            : 'archive a flow for good',
      )
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const { moveFlow } = await import('./service.js');
        const f = await cli.withContext(cmd, (ctx) => moveFlow(ctx, { name, action }));
        emit(cmd, f, () => line(f));
      });
  flows
    .command('report <name>')
    .description(
      "entries, messages, conversions, and the incremental revenue per entrant over the flow's holdout",
    )
    .option('--days <n>', 'days after entering over which revenue counts', '30')
    .action(async (name: string, o: { days: string }, cmd: Command) => {
      const { flowReport } = await import('./report.js');
      const r = await cli.withContext(cmd, (ctx) => flowReport(ctx, { name, days: Number(o.days) }));
      emit(cmd, r, () =>
        [
          `${r.flow}: entered ${r.entered.treated} (+ ${r.entered.holdout} holdout); goal reached ${r.conversions.treated} / ${r.conversions.holdout}`,
          `  in progress ${r.runs.active ?? 0}, completed ${r.runs.completed ?? 0}, exited ${r.runs.exited ?? 0}`,
          ...r.messages.map((m) => `  ${m.step} ${m.status}: ${m.n}`),
          ...(r.codes.issued > 0
            ? [
                `  codes issued ${r.codes.issued}, used in ${r.codes.orders} orders (${r.codes.revenueMinor} minor units)`,
              ]
            : []),
          ...(r.revenue.verdict ? [`  ${r.revenue.verdict}`] : []),
          ...r.notes.map((n) => `  note: ${n}`),
        ].join('\n'),
      );
    });
  flows
    .command('simulate <name>')
    .description(
      'who would have entered the newest version over the last days (before activating, or after an edit)',
    )
    .option('--days <n>', 'days of recorded events to replay', '7')
    .action(async (name: string, o: { days: string }, cmd: Command) => {
      const { simulateFlow } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => simulateFlow(ctx, { name, days: Number(o.days) }));
      emit(
        cmd,
        r,
        () =>
          (r.mode === 'now'
            ? `${r.flow} v${r.version} now: ${r.trigger.time.kind} holds for ${r.customers} customers; `
            : `${r.flow} v${r.version} over ${r.days} days: ${r.events} ${r.trigger.event} events of ${r.customers} customers; `) +
          `${r.wouldEnter} would enter (${r.holdout} of them in the holdout); ${r.excluded.inFlight} already in the flow, ${r.excluded.reentry} kept out by re-entry`,
      );
    });
  flows
    .command('templates')
    .description('the built-in flows: welcome, abandoned checkout, browse abandonment, win-back, birthday …')
    .action(async (_o: unknown, cmd: Command) => {
      const { listBuiltins } = await import('./service.js');
      const list = listBuiltins();
      emit(cmd, list, () =>
        list
          .map(
            (b) => `${b.key}  ${b.title}
  ${b.description}
  messages: ${b.messages.join(', ') || 'none'}${b.surveys.length ? `\n  surveys: ${b.surveys.join(', ')}` : ''}`,
          )
          .join('\n'),
      );
    });
  flows
    .command('install <key>')
    .description(
      'install a built-in flow as a draft with its messages and surveys (templates and surveys you already have are kept)',
    )
    .option('--name <name>', "the flow's name (default: the key)")
    .option(
      '--shop-url <url>',
      "where the messages' buttons lead (default: the storefront site key's origin)",
    )
    .action(async (key: string, o: { name?: string; shopUrl?: string }, cmd: Command) => {
      const { installBuiltin } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        installBuiltin(ctx, { key, name: o.name, shopUrl: o.shopUrl, by: 'cli' }),
      );
      emit(
        cmd,
        r,
        () =>
          `installed ${line(r.flow)} (a draft: read it, \`retain flows simulate ${r.flow.name}\`, then activate)\n` +
          `templates created: ${r.templates.created.join(', ') || 'none'}; kept: ${r.templates.kept.join(', ') || 'none'}` +
          (r.surveys.created.length + r.surveys.kept.length > 0
            ? `\nsurveys created: ${r.surveys.created.join(', ') || 'none'}; kept: ${r.surveys.kept.join(', ') || 'none'}`
            : '') +
          (r.shopUrl ? '' : '\nno shop address: the messages have no shop button (--shop-url)'),
      );
    });
  flows
    .command('sweep-time')
    .description('enter the customers the time conditions hold for now (retain serve does it every hour)')
    .action(async (_o: unknown, cmd: Command) => {
      const { sweepTimeTriggers } = await import('./time.js');
      const r = await cli.withContext(cmd, (ctx) => sweepTimeTriggers(ctx));
      emit(
        cmd,
        r,
        () =>
          `${r.flows} flows with a time condition: ${r.candidates} customers due, ${r.entered} entered, ${r.holdout} in the holdout`,
      );
    });
  flows
    .command('advance')
    .description('take the due runs through their steps now (retain serve does it every minute)')
    .action(async (_o: unknown, cmd: Command) => {
      const { advanceFlows } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => advanceFlows(ctx));
      emit(
        cmd,
        r,
        () =>
          `${r.runs} runs advanced: ${r.sent} messages queued, ${r.goal} reached the goal, ${r.completed} done`,
      );
    });
}
