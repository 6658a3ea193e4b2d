import type { Command } from 'commander';
import { jsonFile } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import type { Campaign } from './schema.js';

const line = (c: Campaign) =>
  `${c.name}  ${c.status}  ${c.channel}  ${c.segment ?? 'rule'}  ` +
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
      'create a draft from a JSON file ({name, segment | rule, variants: [{key, template, share}], holdoutShare, windowDays})',
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
      'assign the audience (once) and queue every variant (each message at most once); again resumes',
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
          ...r.effects.map((e) => `  ${e.verdict}`),
          ...r.notes.map((n) => `  note: ${n}`),
        ].join('\n'),
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
