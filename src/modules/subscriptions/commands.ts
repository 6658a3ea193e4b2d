import type { Command } from 'commander';
import { table } from '../../kit/cli/format.js';
import { jsonArg } from '../../kit/cli/json.js';
import { emit } from '../../kit/cli/output.js';
import type { CliRuntime } from '../../kit/module.js';
import { registerSubscriptionReportCommands } from './reportCommands.js';
import type { Plan, Subscription, SubscriptionDetail } from './schema.js';

const when = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : null);

const planTable = (plans: Plan[]) =>
  table(
    ['name', 'status', 'interval', 'discount %', 'active', 'paused', 'past due'],
    plans.map((p) => {
      const d = p.definition as { interval?: { every: number; unit: string }; discountPercent?: number };
      return [
        p.name,
        p.status,
        d.interval ? `every ${d.interval.every} ${d.interval.unit}` : null,
        String(d.discountPercent ?? 0),
        String(p.subscribers.active),
        String(p.subscribers.paused),
        String(p.subscribers.pastDue),
      ];
    }),
  );

const listTable = (list: Subscription[]) =>
  table(
    ['id', 'customer', 'plan', 'status', 'sku', 'qty', 'next (local)', 'MRR (minor)'],
    list.map((s) => [
      s.id,
      s.customer,
      s.plan,
      s.status,
      s.sku,
      String(s.quantity),
      s.nextDeliveryLocal,
      String(s.mrrMinor),
    ]),
  );

function detailLines(s: SubscriptionDetail): string {
  return [
    `subscription ${s.id}  ${s.status}  customer ${s.customer}  plan ${s.plan}`,
    `  ${s.quantity} × ${s.sku}${s.title ? ` (${s.title})` : ''} at ${s.unitPriceMinor} ${s.currency} minor units` +
      (s.oneOffPriceMinor !== null ? ` (one-off ${s.oneOffPriceMinor})` : ''),
    `  every ${s.interval.every} ${s.interval.unit} at ${s.localTime} ${s.timeZone}` +
      (s.pausedUntil ? `, paused until ${s.pausedUntil}` : ''),
    ...(s.cancelReason ? [`  cancelled: ${s.cancelReason}${s.cancelNote ? ` — ${s.cancelNote}` : ''}`] : []),
    ...(s.upcoming.length
      ? [`  next: ${s.upcoming.map((u) => `#${u.cycle} ${u.localDate}`).join(', ')}`]
      : []),
    ...s.orders.map((o) => `  order #${o.cycle} ${o.order} due ${when(o.dueAt)} UTC, ${o.amountMinor}`),
    ...s.history.map(
      (h) =>
        `  ${when(h.at)}  ${h.by ?? '—'}  ${h.type}${h.cycle !== null ? ` #${h.cycle}` : ''}${h.detail ? ` ${JSON.stringify(h.detail)}` : ''}`,
    ),
  ].join('\n');
}

/** `retain subscriptions …` (docs/subscriptions.md). */
export function registerSubscriptions(program: Command, cli: CliRuntime): void {
  const subs = program
    .command('subscriptions')
    .description('subscription plans, customers’ subscriptions and their actions, recurring orders');

  const plans = subs.command('plans').description('subscription plans');
  plans
    .command('list', { isDefault: true })
    .description('the plans with their subscribers by status')
    .action(async (_o: unknown, cmd: Command) => {
      const { listPlans } = await import('./service.js');
      const list = await cli.withContext(cmd, (ctx) => listPlans(ctx));
      emit(cmd, list, () => planTable(list));
    });
  plans
    .command('save <definition>')
    .description('save a plan from JSON (a file, @file, or inline)')
    .action(async (definition: string, _o: unknown, cmd: Command) => {
      const body = await jsonArg(definition, 'definition');
      const { savePlan } = await import('./service.js');
      const p = await cli.withContext(cmd, (ctx) => savePlan(ctx, { body }));
      emit(cmd, p, () => planTable([p]));
    });
  plans
    .command('archive <name>')
    .description('archive a plan: no new subscriptions on it')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { archivePlan } = await import('./service.js');
      const p = await cli.withContext(cmd, (ctx) => archivePlan(ctx, { name }));
      emit(cmd, p, () => planTable([p]));
    });

  subs
    .command('list', { isDefault: true })
    .description('subscriptions (by id), optionally by status, plan or customer')
    .option('--status <status>', 'active, paused, past_due or cancelled')
    .option('--plan <name>', 'one plan')
    .option('--customer <id>', 'one customer')
    .option('--limit <n>', 'rows per page (1–500)', '50')
    .option('--cursor <cursor>', 'the next page (printed after a page)')
    .action(
      async (
        o: { status?: string; plan?: string; customer?: string; limit: string; cursor?: string },
        cmd: Command,
      ) => {
        const { listSubscriptions } = await import('./service.js');
        const p = await cli.withContext(cmd, (ctx) => listSubscriptions(ctx, { query: { ...o } }));
        emit(cmd, p, () => listTable(p.data) + (p.nextCursor ? `\nmore: --cursor ${p.nextCursor}` : ''));
      },
    );
  subs
    .command('show <id>')
    .description('one subscription: terms, next deliveries, orders, history')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const { getSubscription } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => getSubscription(ctx, { id }));
      emit(cmd, s, () => detailLines(s));
    });
  subs
    .command('create')
    .description('subscribe a customer to a product on a plan')
    .requiredOption('--customer <id>', 'the customer')
    .requiredOption('--plan <name>', 'the plan')
    .requiredOption('--sku <sku>', 'the product')
    .option('--quantity <n>', 'units per delivery', '1')
    .option('--first <date>', 'the first delivery (YYYY-MM-DD, the customer’s calendar)')
    .action(
      async (
        o: { customer: string; plan: string; sku: string; quantity: string; first?: string },
        cmd: Command,
      ) => {
        const { createSubscription } = await import('./service.js');
        const s = await cli.withContext(cmd, (ctx) =>
          createSubscription(ctx, {
            body: {
              customer: o.customer,
              plan: o.plan,
              sku: o.sku,
              quantity: Number(o.quantity),
              ...(o.first ? { firstDelivery: o.first } : {}),
            },
            by: 'cli',
          }),
        );
        emit(cmd, s, () => detailLines(s));
      },
    );
  const action = (
    name: string,
    description: string,
    toBody: (args: string[], o: Record<string, string | undefined>) => Record<string, unknown>,
    args = '',
    options: [string, string][] = [],
  ) => {
    const c = subs.command(`${name} <id>${args ? ` ${args}` : ''}`).description(description);
    for (const [flags, help] of options) c.option(flags, help);
    c.action(async (id: string, ...rest: unknown[]) => {
      const cmd = rest.at(-1) as Command;
      const o = rest.at(-2) as Record<string, string | undefined>;
      const given = rest.slice(0, -2) as string[];
      const { actOnSubscription } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) =>
        actOnSubscription(ctx, { id, body: toBody(given, o), by: 'cli' }),
      );
      emit(cmd, s, () => detailLines(s));
    });
  };
  action('skip', 'skip the next delivery', () => ({ action: 'skip' }));
  action(
    'reschedule',
    'move the next delivery to a date (later ones follow it)',
    ([date]) => ({ action: 'reschedule', date }),
    '<date>',
  );
  action(
    'pause',
    'pause until a date (deliveries resume on it)',
    ([until]) => ({ action: 'pause', until }),
    '<until>',
  );
  action(
    'resume',
    'resume a paused subscription (today, or --date)',
    (_a, o) => ({ action: 'resume', ...(o.date ? { date: o.date } : {}) }),
    '',
    [['--date <date>', 'the first delivery after the pause (YYYY-MM-DD)']],
  );
  action(
    'quantity',
    'units per delivery from the next one',
    ([n]) => ({ action: 'quantity', quantity: Number(n) }),
    '<quantity>',
  );
  action(
    'swap',
    'another product the plan sells, from the next delivery',
    ([sku]) => ({ action: 'swap', sku }),
    '<sku>',
  );
  action(
    'cancel',
    'cancel with a reason (too_expensive, too_much_product, not_needed, quality, delivery, switching, moving, other)',
    (_a, o) => ({ action: 'cancel', reason: o.reason, ...(o.note ? { note: o.note } : {}) }),
    '',
    [
      ['--reason <code>', 'why (a reason code)'],
      ['--note <text>', 'the customer’s words'],
    ],
  );
  action(
    'reactivate',
    'start a cancelled subscription again (today, or --date)',
    (_a, o) => ({ action: 'reactivate', ...(o.date ? { date: o.date } : {}) }),
    '',
    [['--date <date>', 'the first delivery (YYYY-MM-DD)']],
  );
  subs
    .command('renew')
    .description(
      'make the reminders, resumptions and recurring orders that are due (the job does this every five minutes)',
    )
    .action(async (_o: unknown, cmd: Command) => {
      const { renewSubscriptions } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) => renewSubscriptions(ctx));
      emit(cmd, r, () => `orders ${r.orders}, resumed ${r.resumed}, reminded ${r.reminded}`);
    });
  const payments = subs
    .command('payments')
    .description('payment attempts of recurring orders and their results');
  payments
    .command('list', { isDefault: true })
    .description('payment attempts (--status due: what to charge now)')
    .option('--status <status>', 'due, succeeded, failed or void')
    .option('--subscription <id>', 'one subscription')
    .option('--limit <n>', 'rows per page (1–500)', '50')
    .option('--cursor <cursor>', 'the next page (printed after a page)')
    .action(
      async (o: { status?: string; subscription?: string; limit: string; cursor?: string }, cmd: Command) => {
        const { listPayments } = await import('./service.js');
        const p = await cli.withContext(cmd, (ctx) => listPayments(ctx, { query: { ...o } }));
        emit(
          cmd,
          p,
          () =>
            table(
              ['key', 'customer', 'order', 'amount (minor)', 'due (UTC)', 'status', 'reason'],
              p.data.map((x) => [
                x.key,
                x.customer,
                x.order,
                `${x.amountMinor} ${x.currency}`,
                when(x.dueAt),
                x.status,
                x.reason,
              ]),
            ) + (p.nextCursor ? `\nmore: --cursor ${p.nextCursor}` : ''),
        );
      },
    );
  payments
    .command('result <key> <result>')
    .description('record a payment attempt: succeeded or failed')
    .option('--reason <text>', 'why it failed')
    .option('--reference <text>', "the payment system's reference")
    .action(async (key: string, result: string, o: { reason?: string; reference?: string }, cmd: Command) => {
      const { recordPayment } = await import('./service.js');
      const r = await cli.withContext(cmd, (ctx) =>
        recordPayment(ctx, { body: { key, result, ...o }, by: 'cli' }),
      );
      emit(
        cmd,
        r,
        () =>
          `${r.payment.key}: ${r.payment.status}${r.recorded ? '' : ' (recorded before)'}; subscription ${r.subscription.id} ${r.subscription.status}` +
          (r.next ? `; next attempt ${r.next.key} due ${when(r.next.dueAt)} UTC` : ''),
      );
    });
  registerSubscriptionReportCommands(subs, cli);
}
