import type { Command } from 'commander';
import type { TransactionDb } from '../../analytics/basket/itemsets.js';
import type { CliRuntime } from '../../kit/module.js';
import { declareOnDispatch, optionsFrom, type OptionOverride } from '../../kit/cli/options.js';
import { emit } from '../../kit/cli/output.js';
import { count, phased } from '../../kit/cli/progress.js';

/** How the schemas' fields appear on the command line (flags and help texts come from schema.ts). */
const FLAGS: Record<string, OptionOverride> = {
  format: { arg: 'format' },
  input: { arg: 'file' },
  by: { arg: 'level' },
  excludeSku: { arg: 'skus', variadic: true },
  defaultExclusions: {
    negate: true,
    description: 'do not exclude postage/fee lines (POST, DOT, M, BANK CHARGES, …)',
  },
  since: { arg: 'date' },
  until: { arg: 'date' },
  minSupport: { arg: 'fraction' },
  minConfidence: { arg: 'c' },
  maxConsequent: { arg: 'k' },
  maxAntecedent: { arg: 'k' },
  maxSize: { arg: 'k' },
  minLift: { arg: 'x' },
  variant: { arg: 'variant' },
  top: { arg: 'n' },
  out: { arg: 'file' },
  targetMargin: { arg: 'm' },
  maxDiscount: { arg: 'd' },
  costRatio: { arg: 'r' },
  sku: { arg: 'sku' },
  n: { arg: 'n' },
  minCount: { arg: 'n' },
  minCustomers: { arg: 'n' },
  minPriceRatio: { arg: 'x' },
};

/** The stored-orders options of a command that also mines a FIMI file: described as `orders: …`. */
const ORDER_SOURCE = ['by', 'excludeSku', 'defaultExclusions', 'since', 'until'];

/** The transactions of `--input` (a FIMI file), or null for the stored orders (`--format orders`). */
async function fimiTransactions(
  format: string | undefined,
  input: string | undefined,
): Promise<TransactionDb | null> {
  const { invalid } = await import('../../shared/errors.js');
  if ((format ?? (input ? 'fimi' : 'orders')) === 'fimi') {
    if (!input) throw invalid('--format fimi needs --input FILE', { field: '--input' });
    const { readFimi } = await import('./fimiFile.js');
    return phased(
      `reading ${input}`,
      async () => (await readFimi(input)).db,
      (db) => `${count(db.transactionCount)} transactions`,
    );
  }
  if (input)
    throw invalid('--format orders reads the imported orders; import the file with `retain import` first', {
      field: '--input',
    });
  return null;
}

/** An NDJSON `--out` file, closed by `run` whatever happens. */
async function withOut<T>(
  out: string | undefined,
  run: (write: ((line: string) => void) | undefined) => Promise<T>,
): Promise<T> {
  if (!out) return run(undefined);
  const { NdjsonWriter } = await import('./ndjson.js');
  const writer = new NdjsonWriter(out);
  try {
    return await run((line) => writer.writeRaw(line));
  } finally {
    writer.close();
  }
}

/**
 * `retain basket …`: frequent itemsets, association rules, bundles, frequently-bought-together and
 * upsell candidates. The service is imported lazily so `retain --help` stays fast.
 *
 * The command reads a FIMI `--input` and writes `--out`; the services mine the stored orders (or the
 * file's transactions).
 */
export function registerBasket(program: Command, cli: CliRuntime): void {
  const basket = program
    .command('basket')
    .description('Market-basket analysis: itemsets, rules, bundles, cross-sell, upsell');
  declareOnDispatch(basket, async (sub) => {
    const s = await import('./schema.js');
    const schema = {
      itemsets: s.ItemsetsOptions,
      rules: s.RulesOptions,
      bundles: s.BundlesOptions,
      fbt: s.FbtOptions,
      upsell: s.UpsellOptions,
    }[sub.name()];
    if (!schema) return;
    const fileOrOrders = 'input' in schema.shape;
    const flags = { ...FLAGS };
    if (fileOrOrders)
      for (const k of ORDER_SOURCE) {
        const description =
          FLAGS[k]?.description ?? (schema.shape as Record<string, { description?: string }>)[k]?.description;
        flags[k] = { ...FLAGS[k], description: `orders: ${description}` };
      }
    optionsFrom(sub, schema, flags);
  });

  basket
    .command('itemsets')
    .description('Mine frequent itemsets (exact, all / closed / maximal)')
    .addHelpText(
      'after',
      `
Examples:
  $ retain basket itemsets --format fimi --input retail.dat.gz --min-support 0.001 --json
  $ retain basket itemsets --format orders --min-support 0.01 --max-size 3 --out itemsets.ndjson

JSON: {"transactions":n,"items":n,"itemsets":n,"bySize":{"1":n,…},"seconds":s}
The threshold is ceil(min-support × baskets) and is inclusive.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { ItemsetsOptions, parseOptions } = await import('./schema.js');
      const service = await import('./service.js');
      const started = performance.now();
      const { format, input, out, ...opts } = parseOptions(ItemsetsOptions, raw);
      const fimi = await fimiTransactions(format, input);
      const result = await withOut(out, async (write) => {
        const each = write
          ? (items: unknown[], count: number, support: number) =>
              write(`{"items":${JSON.stringify(items)},"count":${count},"support":${support}}`)
          : undefined;
        return phased(
          fimi ? 'mining itemsets' : 'loading orders and mining itemsets',
          async () =>
            fimi
              ? service.itemsetsOf(fimi, opts, each, started)
              : cli.withContext(cmd, (ctx) => service.itemsets(ctx, opts, each)),
          (r) => `${count(r.itemsets)} itemsets in ${count(r.transactions)} baskets`,
        );
      });
      emit(cmd, result, () =>
        [
          `${result.itemsets} frequent itemsets in ${result.transactions} baskets over ${result.items} items (${result.seconds}s)`,
          ...Object.entries(result.bySize).map(([k, n]) => `  size ${k}: ${n}`),
        ].join('\n'),
      );
    });

  basket
    .command('rules')
    .description('Mine association rules A → C')
    .addHelpText(
      'after',
      `
Examples:
  $ retain basket rules --format fimi --input retail.dat.gz --min-support 0.005 --min-confidence 0.5 --json
  $ retain basket rules --format orders --min-support 0.01 --min-confidence 0.3 --max-consequent 2 --out rules.ndjson

JSON: {"rules":n,"transactions":n,"items":n,"itemsets":n,"threshold":n,"top":[…],"seconds":s}
support = P(A∪C), confidence = P(C|A), lift = confidence/P(C), leverage = P(A∪C) − P(A)P(C),
conviction = (1 − P(C))/(1 − confidence), null when confidence = 1.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { RulesOptions, parseOptions } = await import('./schema.js');
      const service = await import('./service.js');
      const started = performance.now();
      const { format, input, out, ...opts } = parseOptions(RulesOptions, raw);
      const fimi = await fimiTransactions(format, input);
      const result = await withOut(out, async (write) => {
        const each = write ? (rule: unknown) => write(JSON.stringify(rule)) : undefined;
        return phased(
          fimi ? 'mining rules' : 'loading orders and mining rules',
          async () =>
            fimi
              ? service.rulesOf(fimi, opts, each, started)
              : cli.withContext(cmd, (ctx) => service.rules(ctx, opts, each)),
          (r) =>
            `${count(r.rules)} rules from ${count(r.itemsets)} itemsets in ${count(r.transactions)} baskets`,
        );
      });
      const titles = result.titles;
      const named = (keys: unknown[]) =>
        keys
          .map((k) => (titles?.[String(k)] ? `${titles[String(k)]} (${String(k)})` : String(k)))
          .join(' + ');
      emit(cmd, result, () =>
        [
          `${result.rules} rules from ${result.itemsets} itemsets (threshold ${result.threshold} of ${result.transactions} baskets, ${result.seconds}s)`,
          ...result.top.map(
            (r) =>
              `  ${named(r.antecedent)} → ${named(r.consequent)}  conf ${r.confidence.toFixed(3)}  lift ${r.lift.toFixed(2)}  support ${r.support.toFixed(4)}`,
          ),
        ].join('\n'),
      );
    });
  basket
    .command('bundles')
    .description('Bundle suggestions: pairs/triples with high lift, margin and discount')
    .addHelpText(
      'after',
      `
Example:
  $ retain basket bundles --min-support 0.003 --min-lift 3 --target-margin 0.35 --json

Ranked by orders beyond chance (orders − N·ΠP(product)); discount d ≤ 1 − cost/((1 − margin)·price),
in whole percent, capped by --max-discount; null when unit costs are unknown (see --cost-ratio).`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { BundlesOptions, parseOptions } = await import('./schema.js');
      const { bundles } = await import('./service.js');
      const input = parseOptions(BundlesOptions, raw);
      const result = await phased(
        'loading orders and finding bundles',
        () => cli.withContext(cmd, (ctx) => bundles(ctx, input)),
        (r) => `${count(r.bundles.length)} bundles`,
      );
      emit(
        cmd,
        result,
        () =>
          result.bundles
            .map(
              (b) =>
                `${b.titles.join(' + ')}  orders ${b.orders}  lift ${b.lift.toFixed(1)}  margin ${b.margin === null ? '?' : (b.margin * 100).toFixed(0) + '%'}  discount ${b.suggestedDiscount === null ? '?' : (b.suggestedDiscount * 100).toFixed(0) + '%'}`,
            )
            .join('\n') || 'no bundles above the thresholds',
      );
    });

  basket
    .command('fbt')
    .description('Frequently bought together, per product')
    .addHelpText(
      'after',
      `
Example:
  $ retain basket fbt --sku 85123A --n 5 --json

Companions ranked by confidence P(companion | product), then lift.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { FbtOptions, parseOptions } = await import('./schema.js');
      const { fbt } = await import('./service.js');
      const input = parseOptions(FbtOptions, raw);
      const result = await phased(
        'loading orders and counting companions',
        () => cli.withContext(cmd, (ctx) => fbt(ctx, input)),
        (r) => `${count(r.fbt.length)} products`,
      );
      emit(cmd, result, () =>
        result.fbt
          .map(
            (p) =>
              `${p.title} (${p.sku}, ${p.orders} orders)\n` +
              p.together
                .map(
                  (c) =>
                    `  + ${c.title} (${c.sku})  ${(c.confidence * 100).toFixed(0)}%  lift ${c.lift.toFixed(1)}`,
                )
                .join('\n'),
          )
          .join('\n'),
      );
    });

  basket
    .command('upsell')
    .description('Upsell paths within a category, and the next product after a first purchase')
    .addHelpText(
      'after',
      `
Example:
  $ retain basket upsell --min-customers 5 --json

upsell: a pricier product of the same category that buyers of the cheaper one first bought in a later
order; nextProduct: what customers bought in their second order, by the main category of their first.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { UpsellOptions, parseOptions } = await import('./schema.js');
      const { upsell } = await import('./service.js');
      const input = parseOptions(UpsellOptions, raw);
      const result = await phased(
        'loading orders and finding upsell paths',
        () => cli.withContext(cmd, (ctx) => upsell(ctx, input)),
        (r) => `${count(r.upsell.length)} upsell paths`,
      );
      emit(cmd, result, () =>
        [
          ...result.notes.map((n) => `Note: ${n}`),
          ...(result.upsell.length ? ['Upsell:'] : []),
          ...result.upsell.map(
            (u) =>
              `  ${u.fromTitle} → ${u.toTitle}  ${u.customers} customers (${(u.rate * 100).toFixed(1)}%)  +${(u.priceUplift * 100).toFixed(0)}% price`,
          ),
          ...(result.nextProduct.length ? ['Next product after the first order:'] : []),
          ...result.nextProduct.map(
            (g) =>
              `  ${g.firstCategory}: ${g.repeaters}/${g.customers} came back; ${g.next.map((x) => x.title).join(', ')}`,
          ),
        ].join('\n'),
      );
    });
}
