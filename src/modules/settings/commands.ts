import type { Command } from 'commander';
import type { CliRuntime } from '../../kit/module.js';
import { globalsOf, log, emit } from '../../kit/cli/output.js';
import { table } from '../../kit/cli/format.js';
import type { ModuleContext } from '../../kit/context.js';
import { invalid } from '../../shared/errors.js';
import type { StoreSettings, UpdateStore } from './schema.js';

/** CLI flags of the settings, by field. */
const FLAGS = {
  name: '--name',
  currency: '--currency',
  timeZone: '--time-zone',
  locale: '--locale',
  defaultMargin: '--default-margin',
  defaultDiscountRate: '--default-discount-rate',
  nonProductSkus: '--non-product-skus',
} as const;
type SetField = keyof typeof FLAGS;
/** What `retain init` asks for. */
type Field = 'name' | 'currency' | 'timeZone' | 'locale';
const FIELDS: Field[] = ['name', 'currency', 'timeZone', 'locale'];

/**
 * A flag's text as the API's JSON value: numbers for the CLV defaults, a list for the SKUs, null for an
 * empty name (`--name ""` clears it).
 */
function valueOf(field: SetField, text: string): unknown {
  if (field === 'name') return text === '' ? null : text;
  if (field === 'defaultMargin' || field === 'defaultDiscountRate')
    return text.trim() === '' ? text : Number(text);
  if (field === 'nonProductSkus')
    return text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return text;
}

/** Parses flags with the service's schema; an error names the flag (`field --time-zone: expected …`). */
async function parseFlags(raw: Partial<Record<SetField, string>>): Promise<UpdateStore> {
  const { UpdateStore } = await import('./schema.js');
  const input: Record<string, unknown> = {};
  for (const f of Object.keys(FLAGS) as SetField[]) if (raw[f] !== undefined) input[f] = valueOf(f, raw[f]);
  const r = UpdateStore.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = FLAGS[String(issue.path[0]) as SetField];
  throw invalid(issue.message, field ? { field } : undefined);
}

function describe(s: StoreSettings): string {
  const note = (f: SetField) => (s.defaults.includes(f) ? ' (default)' : '');
  return table(
    ['setting', 'value'],
    [
      ['name', s.name ?? 'not set'],
      [
        'currency',
        `${s.currency ?? 'not set (the first orders import sets it)'}${s.currency ? note('currency') : ''}`,
      ],
      ['time zone', `${s.timeZone}${note('timeZone')}`],
      ['locale', `${s.locale}${note('locale')}`],
      ['CLV margin', `${s.defaultMargin}${note('defaultMargin')}`],
      ['CLV monthly discount rate', `${s.defaultDiscountRate}${note('defaultDiscountRate')}`],
      ['non-product SKUs', `${s.nonProductSkus.join(', ') || 'none'}${note('nonProductSkus')}`],
    ],
  );
}

/** Asks one question with a default (empty answer = the default); undefined when nobody can answer. */
export type Ask = (question: string, dflt: string) => Promise<string>;

/** A question on the terminal (stderr, so `--json` keeps stdout to the one document). */
async function terminalAsk(): Promise<{ ask: Ask; close: () => void }> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return {
    ask: async (q, d) => {
      const answer = (await rl.question(`${q}${d ? ` [${d}]` : ''}: `)).trim();
      return answer === '' ? d : answer;
    },
    close: () => rl.close(),
  };
}

/** What `retain init` did: the settings, and which of them were asked, given or kept. */
export interface InitResult {
  database: string;
  settings: StoreSettings;
  given: Field[];
  asked: Field[];
  kept: Field[];
}

/** The machine's time zone (offered as the store's when `retain init` asks). */
export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * `retain init`'s logic on an open store: the flags given are set; each missing one is asked when
 * `ask` is given (a terminal), with the current value — or, for the time zone, the machine's — as
 * the default, and asked again when the answer is invalid; without `ask` it is kept as it is.
 */
export async function initStore(
  ctx: ModuleContext,
  flags: Partial<Record<Field, string>>,
  ask: Ask | undefined,
): Promise<Omit<InitResult, 'database'>> {
  const [{ getStore, updateStore }, { UpdateStore }] = await Promise.all([
    import('./service.js'),
    import('./schema.js'),
  ]);
  const input = await parseFlags(flags);
  const given = FIELDS.filter((f) => flags[f] !== undefined);
  const asked: Field[] = [];
  if (ask) {
    const current = await getStore(ctx);
    const questions: Record<Field, [string, string]> = {
      name: ['store name (as customers read it in messages)', current.name ?? ''],
      currency: ['store currency (ISO 4217, e.g. UAH, EUR, USD)', current.currency ?? ''],
      timeZone: [
        'store time zone (IANA, e.g. Europe/Kyiv)',
        current.defaults.includes('timeZone') ? machineTimeZone() : current.timeZone,
      ],
      locale: ['default locale (uk, ru, en)', current.locale],
    };
    for (const f of FIELDS) {
      if (given.includes(f)) continue;
      const [q, d] = questions[f];
      for (let attempt = 1; ; attempt++) {
        const answer = await ask(q, d);
        if (answer === '') break; // no name or currency yet (the first import sets the currency)
        const r = UpdateStore.shape[f].safeParse(answer);
        if (r.success) {
          (input as Record<Field, string | undefined>)[f] = r.data as string;
          asked.push(f);
          break;
        }
        const message = r.error.issues[0]?.message ?? 'invalid';
        if (attempt === 3) throw invalid(message, { field: FLAGS[f] });
        log(`${FLAGS[f]}: ${message}`);
      }
    }
  }
  const settings = await updateStore(ctx, input);
  const kept = FIELDS.filter((f) => !given.includes(f) && !asked.includes(f));
  return { settings, given, asked, kept };
}

/** `retain store`, `retain store set`, `retain init`. */
export function registerStore(program: Command, cli: CliRuntime): void {
  const flags = (cmd: Command) =>
    cmd
      .option(`${FLAGS.name} <name>`, 'the store’s name as customers read it in messages ("" clears it)')
      .option(
        `${FLAGS.currency} <code>`,
        'ISO 4217 currency of the store (refused while orders exist in another)',
      )
      .option(`${FLAGS.timeZone} <zone>`, 'IANA time zone of the store: report days and months are cut in it')
      .option(`${FLAGS.locale} <locale>`, 'default locale of customers and the dashboard: uk, ru or en');

  flags(
    program
      .command('init')
      .description(
        'create or migrate the database and set the store settings (asks on a terminal for those not given)',
      ),
  ).action(async (opts: Partial<Record<Field, string>>, cmd: Command) => {
    const g = globalsOf(cmd);
    const database = g.databaseUrl ? 'PostgreSQL (--database-url)' : (g.db ?? './retain.duckdb');
    const terminal = process.stdin.isTTY ? await terminalAsk() : undefined;
    let result: Omit<InitResult, 'database'>;
    try {
      result = await cli.withContext(cmd, (ctx) => initStore(ctx, opts, terminal?.ask));
    } finally {
      terminal?.close();
    }
    const out: InitResult = { database, ...result };
    if (!terminal && out.kept.length > 0 && !g.json)
      log(
        `retain init: not a terminal, kept ${out.kept.map((f) => FLAGS[f]).join(', ')} as they are ` +
          '(give them as flags, or later: retain store set)',
      );
    emit(cmd, out, () => `database ready: ${database}\n${describe(out.settings)}`);
  });

  const store = program
    .command('store')
    .description(
      'show or change the store settings (name, currency, time zone, locale, CLV defaults, non-product SKUs)',
    );
  store
    .command('show', { isDefault: true })
    .description('show the store settings (unset ones with their default)')
    .action(async (_o: unknown, cmd: Command) => {
      const { getStore } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => getStore(ctx));
      emit(cmd, s, () => describe(s));
    });
  flags(store.command('set').description('change store settings; flags left out stay as they are'))
    .option(`${FLAGS.defaultMargin} <m>`, 'profit margin in (0, 1] CLV predictions apply unless given one')
    .option(
      `${FLAGS.defaultDiscountRate} <d>`,
      'monthly discount rate in [0, 1) CLV predictions apply unless given one',
    )
    .option(
      `${FLAGS.nonProductSkus} <skus>`,
      'the store’s own non-product SKUs, comma-separated (replaces the list; "" empties it)',
    )
    .action(async (opts: Partial<Record<SetField, string>>, cmd: Command) => {
      const input = await parseFlags(opts);
      if (Object.keys(input).length === 0)
        throw invalid(`give at least one of ${Object.values(FLAGS).join(', ')}`, { field: '--currency' });
      const { updateStore } = await import('./service.js');
      const s = await cli.withContext(cmd, (ctx) => updateStore(ctx, input));
      emit(cmd, s, () => describe(s));
    });
}
