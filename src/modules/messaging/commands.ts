import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { table } from '../../kit/cli/format.js';
import { jsonFile } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import { invalid } from '../../shared/errors.js';

/** Customer ids from `--customer` flags and/or a file of one id per line (`-` lines skipped). */
export async function customerList(opts: { customer?: string[]; customers?: string }): Promise<string[]> {
  const ids = [...(opts.customer ?? [])];
  if (opts.customers) {
    const text = await readFile(opts.customers, 'utf8').catch((err: Error) => {
      throw invalid(`cannot read ${opts.customers}: ${err.message}`, { field: '--customers' });
    });
    for (const line of text.split(/\r?\n/)) if (line.trim()) ids.push(line.trim());
  }
  if (ids.length === 0)
    throw invalid('give --customer ID (repeatable) or --customers FILE', { field: '--customers' });
  return ids;
}

export const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `retain templates|send|channels|messaging …` */
export function registerMessaging(program: Command, cli: CliRuntime): void {
  const templates = program
    .command('templates')
    .description('message templates (MJML email, text SMS/messenger; Liquid variables)');
  templates
    .command('save <file>')
    .description(
      'save a template from a JSON file ({name, channel, kind, variants: [{locale, subject, body, text?}]}); a new version',
    )
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const body = await jsonFile(file, '<file>');
      const { saveTemplate } = await import('./service.js');
      const t = await cli.withContext(cmd, (ctx) => saveTemplate(ctx, { body, by: 'cli' }));
      emit(
        cmd,
        t,
        () => `saved ${t.name} version ${t.version} (${t.channel}, ${t.kind}; ${t.locales.join(', ')})`,
      );
    });
  templates
    .command('list', { isDefault: true })
    .description('templates (latest versions)')
    .action(async (_o: unknown, cmd: Command) => {
      const { listTemplates } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => listTemplates(ctx));
      emit(cmd, r, () =>
        table(
          ['name', 'version', 'channel', 'kind', 'locales'],
          r.data.map((t) => [t.name, String(t.version), t.channel, t.kind, t.locales.join(', ')]),
        ),
      );
    });
  templates
    .command('preview <name>')
    .description('render a template for one customer (strict: unknown variables are errors)')
    .requiredOption('--customer <id>', "the shop's customer id")
    .option('--locale <locale>', "instead of the customer's")
    .action(async (name: string, o: { customer: string; locale?: string }, cmd: Command) => {
      const { previewTemplate } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        previewTemplate(ctx, { name, customer: o.customer, locale: o.locale }),
      );
      emit(cmd, r, () =>
        [
          `locale: ${r.locale}`,
          ...(r.subject !== undefined ? [`subject: ${r.subject}`] : []),
          '',
          r.text,
        ].join('\n'),
      );
    });

  const send = program.command('send').description('queue and deliver messages through the one send path');
  send
    .command('queue <template>')
    .description('queue a template for customers: each (source, step, customer, occurrence) at most once')
    .requiredOption(
      '--occurrence <id>',
      'which time this is (a date, a run id): repeating the command sends nothing twice',
    )
    .option('--customer <id>', 'a customer (repeatable)', collect)
    .option('--customers <file>', 'a file of customer ids, one per line')
    .option('--source <source>', 'what sends', 'manual')
    .option('--step <step>', 'the step within the source (default: the template name)')
    .option('--var <name=value>', 'a template variable for every recipient (repeatable)', collect)
    .option('--deliver', 'deliver at once on the configured channels (without retain serve)')
    .action(
      async (
        template: string,
        o: {
          occurrence: string;
          customer?: string[];
          customers?: string;
          source: string;
          step?: string;
          var?: string[];
          deliver?: boolean;
        },
        cmd: Command,
      ) => {
        const customers = await customerList(o);
        const variables: Record<string, string> = {};
        for (const v of o.var ?? []) {
          const i = v.indexOf('=');
          if (i <= 0) throw invalid(`expected --var name=value, got '${v}'`, { field: '--var' });
          variables[v.slice(0, i)] = v.slice(i + 1);
        }
        const { queueSend, deliverConfigured } = await import('./service.js');
        const r = await cli.withContext(cmd, async (ctx) => {
          const queued = await queueSend(ctx, {
            template,
            customers,
            source: o.source,
            occurrence: o.occurrence,
            ...(o.step ? { step: o.step } : {}),
            ...(Object.keys(variables).length ? { variables } : {}),
          });
          return { ...queued, delivered: o.deliver ? await deliverConfigured(ctx) : null };
        });
        emit(cmd, r, () =>
          [
            `queued ${r.queued} (${r.alreadyQueued} already in the ledger) — ${r.template} v${r.templateVersion}`,
            ...(r.delivered ? [`delivered: ${JSON.stringify(r.delivered)}`] : []),
          ].join('\n'),
        );
      },
    );
  send
    .command('deliver')
    .description('deliver what is due now on the configured channels')
    .option('--max <n>', 'stop after n messages sent')
    .option(
      '--after-crash',
      'no other sender runs: decide the rows a stopped sender left at once (not after 10 minutes)',
    )
    .action(async (o: { max?: string; afterCrash?: boolean }, cmd: Command) => {
      const max = o.max === undefined ? undefined : Number(o.max);
      if (max !== undefined && !(Number.isInteger(max) && max > 0))
        throw invalid(`--max must be a positive whole number, got '${o.max}'`, { field: '--max' });
      const { deliverConfigured } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        deliverConfigured(ctx, { ...(max ? { max } : {}), ...(o.afterCrash ? { staleMs: 0 } : {}) }),
      );
      emit(cmd, r, () =>
        table(
          ['outcome', 'messages'],
          Object.entries(r).map(([k, v]) => [k, String(v)]),
        ),
      );
    });
  send
    .command('unknown')
    .description('decide the sends a crash left unknown: --resend (may double a delivered one) or --drop')
    .option('--resend', 'queue them again')
    .option('--drop', 'end them as rejected')
    .option('--source <source>', 'one source only')
    .action(async (o: { resend?: boolean; drop?: boolean; source?: string }, cmd: Command) => {
      if (Boolean(o.resend) === Boolean(o.drop))
        throw invalid('give one of --resend or --drop', { field: '--resend' });
      const { resolveUnknownSends } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        resolveUnknownSends(ctx, { action: o.resend ? 'resend' : 'drop', source: o.source }),
      );
      emit(cmd, r, () => `${r.action === 'resend' ? 'queued again' : 'dropped'}: ${r.rows} unknown sends`);
    });
  send
    .command('feedback <files...>')
    .description(
      'read bounce and complaint reports (RFC 3464 DSN, RFC 5965 ARF; raw .eml files): suppress hard bounces and complainers',
    )
    .action(async (files: string[], _o: unknown, cmd: Command) => {
      const { parseFeedback, applyFeedback } = await import('./bounces.js');
      // Every file is read and parsed first: a bad one is refused, naming it, before anything is written.
      const reports: { file: string; report: Awaited<ReturnType<typeof parseFeedback>> }[] = [];
      for (const file of files) {
        const raw = await readFile(file).catch((err: Error) => {
          throw invalid(`cannot read ${file}: ${err.message}`, { file });
        });
        reports.push({ file, report: await parseFeedback(raw, { file }) });
      }
      const r = await cli.withContext(cmd, async (ctx) => {
        const out = [];
        for (const { file, report } of reports) out.push({ file, ...(await applyFeedback(ctx, report)) });
        return { data: out };
      });
      emit(cmd, r, () =>
        table(
          ['file', 'address', 'kind', 'status', 'send', 'suppressed', 'unsubscribed'],
          r.data.flatMap((f) =>
            f.recipients.map((x) => [
              f.file,
              x.address,
              x.kind,
              x.status ?? '',
              x.send ?? '',
              x.suppressed ? 'yes' : 'no',
              x.unsubscribed.join(' '),
            ]),
          ),
        ),
      );
    });
  send
    .command('summary')
    .description('the send ledger by status')
    .option('--source <source>', 'one source only')
    .action(async (o: { source?: string }, cmd: Command) => {
      const { sendSummary } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => sendSummary(ctx, o));
      emit(cmd, r, () =>
        table(
          ['status', 'messages'],
          Object.entries(r.counts).map(([k, v]) => [k, String(v)]),
        ),
      );
    });

  const channels = program
    .command('channels')
    .description('email (SMTP), SMS (HTTP gateway) and messenger (Telegram bot) settings');
  channels
    .command('set <file>')
    .description('keep the channels configuration (JSON; secrets as {"env": "NAME"}) in the store')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const json = await jsonFile(file, '<file>');
      const { setChannelConfig } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => setChannelConfig(ctx, json, file));
      emit(
        cmd,
        r,
        () =>
          `channels: ${
            Object.keys(r)
              .filter((k) => (r as Record<string, unknown>)[k])
              .join(', ') || 'none'
          }`,
      );
    });
  channels
    .command('show', { isDefault: true })
    .description('the channels configuration in use (RETAIN_CHANNELS or the store)')
    .action(async (_o: unknown, cmd: Command) => {
      const { channelConfig } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => channelConfig(ctx));
      emit(cmd, r, () => JSON.stringify(r, null, 2));
    });

  program
    .command('messaging')
    .description('show or change the sending rules (frequency cap, quiet hours, public URL, tracking)')
    .option('--cap <n/days>', "marketing messages per contact per days, e.g. 3/7; 'off' for none")
    .option('--quiet <start-end>', "quiet hours in the contact's time zone, e.g. 21:00-09:00; 'off' for none")
    .option('--public-url <url>', 'where contacts reach retain serve (unsubscribe and preference links)')
    .option(
      '--double-opt-in <channels>',
      "channels whose API and checkout grants wait for the contact's confirmation: email, sms, email,sms or 'off'",
    )
    .option(
      '--tracking <what>',
      "marketing email's open pixel and tracked links: on, off, opens (pixel only) or clicks (links only)",
    )
    .action(
      async (
        o: { cap?: string; quiet?: string; publicUrl?: string; doubleOptIn?: string; tracking?: string },
        cmd: Command,
      ) => {
        const change: Record<string, unknown> = {};
        if (o.tracking !== undefined) {
          const modes: Record<string, { opens: boolean; clicks: boolean }> = {
            on: { opens: true, clicks: true },
            off: { opens: false, clicks: false },
            opens: { opens: true, clicks: false },
            clicks: { opens: false, clicks: true },
          };
          const mode = modes[o.tracking];
          if (!mode)
            throw invalid(`--tracking takes on, off, opens or clicks; got '${o.tracking}'`, {
              field: '--tracking',
            });
          change.tracking = mode;
        }
        if (o.cap !== undefined) {
          const m = /^(\d+)\/(\d+)$/.exec(o.cap);
          if (o.cap !== 'off' && !m)
            throw invalid(`expected --cap n/days such as 3/7, got '${o.cap}'`, { field: '--cap' });
          change.frequencyCap = m ? { max: Number(m[1]), days: Number(m[2]) } : null;
        }
        if (o.quiet !== undefined) {
          const m = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(o.quiet);
          if (o.quiet !== 'off' && !m)
            throw invalid(`expected --quiet HH:MM-HH:MM, got '${o.quiet}'`, { field: '--quiet' });
          change.quietHours = m ? { start: m[1], end: m[2] } : null;
        }
        if (o.publicUrl !== undefined) change.publicUrl = o.publicUrl;
        if (o.doubleOptIn !== undefined) {
          const list = o.doubleOptIn === 'off' ? [] : o.doubleOptIn.split(',').map((c) => c.trim());
          const wrong = list.find((c) => c !== 'email' && c !== 'sms');
          if (wrong !== undefined)
            throw invalid(`--double-opt-in takes email, sms, email,sms or off; got '${wrong}'`, {
              field: '--double-opt-in',
            });
          change.doubleOptIn = [...new Set(list)];
        }
        const { getPolicy, setPolicy } = await import('./service.js');
        const r = await cli.withContext(cmd, (ctx) =>
          Object.keys(change).length ? setPolicy(ctx, change) : getPolicy(ctx),
        );
        emit(cmd, r, () => JSON.stringify(r, null, 2));
      },
    );
}
