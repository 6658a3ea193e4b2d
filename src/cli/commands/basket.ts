import type { Command } from 'commander';
import type { OpenBasketSource } from '../../modules/basket/repository.js';
import type { BasketDeps } from '../../modules/basket/service.js';
import { emit, globalsOf, log } from '../output.js';

/**
 * `retain basket …`: frequent itemsets, association rules, bundles, frequently-bought-together and
 * upsell candidates. The service is imported lazily so `retain --help` stays fast.
 *
 * `openSource` reaches the imported orders; until storage provides one, `--format orders` fails
 * with a clear message and FIMI files work.
 */
export function registerBasket(program: Command, openSource?: OpenBasketSource): void {
  const basket = program
    .command('basket')
    .description('Market-basket analysis: itemsets, rules, bundles, cross-sell, upsell');

  const depsOf = (cmd: Command): BasketDeps => {
    const globals = globalsOf(cmd);
    return { log, ...(openSource ? { openSource: () => openSource(globals) } : {}) };
  };

  const sourceOptions = (cmd: Command): Command =>
    cmd
      .option(
        '--format <format>',
        'fimi (a basket file) or orders (the imported orders); default: fimi when --input is given',
      )
      .option(
        '--input <file>',
        'FIMI file: one basket per line, space-separated integer item ids (.gz allowed)',
      )
      .option('--by <level>', 'orders: mine by sku or category', 'sku')
      .option(
        '--exclude-sku <skus...>',
        'orders: more non-product SKUs to exclude (comma or space separated)',
      )
      .option(
        '--no-default-exclusions',
        'orders: do not exclude postage/fee lines (POST, DOT, M, BANK CHARGES, …)',
      )
      .option('--since <date>', 'orders: only orders at or after this date')
      .option('--until <date>', 'orders: only orders before this date');

  sourceOptions(basket.command('itemsets').description('Mine frequent itemsets (FP-growth)'))
    .requiredOption('--min-support <fraction>', 'minimum support as a fraction of baskets, in (0, 1]')
    .option('--max-size <k>', 'largest itemset size')
    .option('--variant <variant>', 'all, closed or maximal itemsets', 'all')
    .option('--out <file>', 'write every itemset as NDJSON {"items":[…],"count":n,"support":f}')
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
      const { ItemsetsOptions, parseOptions } = await import('../../modules/basket/schema.js');
      const { runItemsets } = await import('../../modules/basket/service.js');
      const result = await runItemsets(parseOptions(ItemsetsOptions, raw), depsOf(cmd));
      emit(cmd, result, () =>
        [
          `${result.itemsets} frequent itemsets in ${result.transactions} baskets over ${result.items} items (${result.seconds}s)`,
          ...Object.entries(result.bySize).map(([k, n]) => `  size ${k}: ${n}`),
        ].join('\n'),
      );
    });

  sourceOptions(basket.command('rules').description('Mine association rules A → C'))
    .requiredOption('--min-support <fraction>', 'minimum support of A ∪ C, in (0, 1]')
    .requiredOption('--min-confidence <c>', 'minimum confidence, in [0, 1]')
    .option('--max-consequent <k>', 'largest consequent', '1')
    .option('--max-antecedent <k>', 'largest antecedent')
    .option('--max-size <k>', 'largest A ∪ C')
    .option('--min-lift <x>', 'minimum lift')
    .option('--top <n>', 'strongest rules (by lift) to include in the result', '10')
    .option('--out <file>', 'write every rule as NDJSON')
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
      const { RulesOptions, parseOptions } = await import('../../modules/basket/schema.js');
      const { runRules } = await import('../../modules/basket/service.js');
      const result = await runRules(parseOptions(RulesOptions, raw), depsOf(cmd));
      emit(cmd, result, () =>
        [
          `${result.rules} rules from ${result.itemsets} itemsets (threshold ${result.threshold} of ${result.transactions} baskets, ${result.seconds}s)`,
          ...result.top.map(
            (r) =>
              `  ${r.antecedent.join(' + ')} → ${r.consequent.join(' + ')}  conf ${r.confidence.toFixed(3)}  lift ${r.lift.toFixed(2)}  support ${r.support.toFixed(4)}`,
          ),
        ].join('\n'),
      );
    });
}
