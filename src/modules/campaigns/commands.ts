import type { Command } from 'commander';
import { jsonFile } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import type { Campaign } from './schema.js';
import { codesFileError } from './codesFile.js';

const line = (c: Campaign) =>
  `${c.name}  ${c.status}${c.status === 'scheduled' && c.sendAt ? ` (${c.sendAt})` : ''}${c.problem ? ` — ${c.problem}` : ''}  ${c.channel}  ${c.segment ?? 'rule'}  ` +
  `${c.variants.map((v) => `${v.key}=${v.template} ${Math.round(v.share * 100)}%`).join(', ')}  holdout ${Math.round(c.holdoutShare * 100)}%`;

/** `retain campaigns …` */
export function registerCampaigns(program: Command, cli: CliRuntime): void {
  const campaigns = program
    .command('campaigns')
    .description(
      'sends to a segment with A/B/n variants and a holdout; incremental revenue (docs/campaigns.md)',
    );
  campaigns
    .command('create <file>')
    .description(
      'create a draft from a JSON file ({name, segment | rule, variants: [{key, template, share, offer?, schedule?}], holdoutShare, windowDays, clickWindowDays, schedule?, stop?})',
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const body = await jsonFile(file, '<file>');
      const { createCampaign } = await import('./service.js');
      const c = await cli.withContext(cmd, (ctx) => createCampaign(ctx, body, 'cli'));
      emit(cmd, c, () => `created ${line(c)}`);
    });
  campaigns
    .command('list')
    .description('campaigns, newest first')
    .action(async (_o: unknown, cmd: Command) => {
      const { listCampaigns } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => listCampaigns(ctx));
      emit(cmd, list, () => list.map(line).join('\n') || 'no campaigns yet');
    });
  campaigns
    .command('show <name>')
    .description('one campaign')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { getCampaign } = await import('./service.js');
      const c = await cli.withContext(cmd, (ctx) => getCampaign(ctx, { name }));
      emit(cmd, c, () => line(c));
    });
  campaigns
    .command('launch <name>')
    .description(
      'assign the audience (once) and queue every variant now, or schedule it when it has a schedule; repeating it changes nothing',
    )
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { launchCampaign } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => launchCampaign(ctx, { name }));
      emit(
        cmd,
        r,
        () =>
          `${r.recipients} recipients (${Object.entries(r.arms)
            .map(([k, n]) => `${k} ${n}`)
            .join(
              ', ',
            )}); queued ${r.queued}, already queued ${r.alreadyQueued}. Deliver: retain send deliver`,
      );
    });
  campaigns
    .command('plan <name>')
    .description('before sending: what this audience and holdout can detect (minimum detectable effect)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { campaignPlan } = await import('./report.js');
      const r = await cli.withContext(cmd, (ctx) => campaignPlan(ctx, { name }));
      emit(cmd, r, () => r.summary);
    });
  campaigns
    .command('report <name>')
    .description('incremental revenue per recipient of each variant over the holdout, with its interval')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { campaignReport } = await import('./report.js');
      const r = await cli.withContext(cmd, (ctx) => campaignReport(ctx, { name }));
      emit(cmd, r, () =>
        [
          `${r.campaign}: ${r.window.start.slice(0, 10)} → ${r.window.end.slice(0, 10)}${r.window.complete ? '' : ' (so far)'}`,
          ...r.arms.map(
            (a) =>
              `  ${a.arm.padEnd(8)} ${String(a.recipients).padStart(6)} recipients  ${String(a.orders).padStart(5)} orders  ` +
              `revenue ${a.revenueMinor} minor (${a.revenuePerRecipientMinor?.toFixed(1) ?? '—'} per recipient)`,
          ),
          ...r.arms
            .filter((a) => a.arm !== 'holdout')
            .map(
              (a) =>
                `  ${a.arm.padEnd(8)} sent ${a.engagement.sent}, delivered ${a.engagement.delivered}, opened ${a.engagement.opened}, ` +
                `clicked ${a.engagement.clicked}, unsubscribed ${a.engagement.unsubscribed}, bounced ${a.engagement.bounced}; ` +
                `attributed (not incremental): by code ${a.attributed.byCode.orders} orders ${a.attributed.byCode.revenueMinor} minor, ` +
                `by click ${a.attributed.byClick.orders} orders ${a.attributed.byClick.revenueMinor} minor`,
            ),
          ...r.effects.flatMap((e) => [`  ${e.verdict}`, `    stop rule (${e.stop.rule}): ${e.stop.reason}`]),
          ...r.notes.map((n) => `  note: ${n}`),
        ].join('\n'),
      );
    });
  for (const [action, what] of [
    ['pause', 'pause a scheduled or sending campaign (nothing more is sent until resumed)'],
    ['resume', 'resume a paused campaign'],
  ] as const)
    campaigns
      .command(`${action} <name>`)
      .description(what)
      .action(async (name: string, _o: unknown, cmd: Command) => {
        const service = await import('./service.js');
        const run = action === 'pause' ? service.pauseCampaign : service.resumeCampaign;
        const c = await cli.withContext(cmd, (ctx) => run(ctx, { name }));
        emit(cmd, c, () => line(c));
      });
  campaigns
    .command('codes <name>')
    .description(
      "import the store's own discount codes for a variant (offer.codes 'list'): a text file, one code per line, or a CSV whose first column is the code",
    )
    .requiredOption('--variant <key>', 'the variant (A, B, …)')
    .requiredOption('--file <path>', 'the codes')
    .action(async (name: string, o: { variant: string; file: string }, cmd: Command) => {
      const { readCodesFile } = await import('./codesFile.js');
      const codes = await readCodesFile(o.file);
      const { importCodes } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        importCodes(ctx, { name, body: { variant: o.variant, codes: codes.map((c) => c.code) } }).catch(
          (err: unknown) => {
            throw codesFileError(err, o.file, codes);
          },
        ),
      );
      emit(cmd, r, () => `imported ${r.imported} codes for variant ${r.variant}; ${r.available} unused`);
    });
  campaigns
    .command('codes-export <name>')
    .description('every code with its recipient, value and expiry, as CSV (to create them in the shop)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { listCodes } = await import('./service.js');
      const rows = await cli.withContext(cmd, (ctx) => listCodes(ctx, { name }));
      const { toCsv } = await import('./codesFile.js');
      emit(cmd, rows, () => toCsv(rows).trimEnd());
    });
  campaigns
    .command('sweep')
    .description(
      'start the scheduled campaigns whose time has come and mark finished ones done (retain serve does it every minute)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const { sweepCampaigns } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => sweepCampaigns(ctx));
      emit(
        cmd,
        r,
        () =>
          `started ${r.started.join(', ') || 'none'}; paused ${r.paused.join(', ') || 'none'}; done ${r.done.join(', ') || 'none'}`,
      );
    });
  campaigns
    .command('cancel <name>')
    .description('cancel a campaign (messages already delivered stay delivered)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { cancelCampaign } = await import('./service.js');
      const c = await cli.withContext(cmd, (ctx) => cancelCampaign(ctx, { name }));
      emit(cmd, c, () => line(c));
    });
}
