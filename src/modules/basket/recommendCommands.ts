import type { Command } from 'commander';
import type { CliRuntime } from '../../kit/module.js';
import { emit } from '../../kit/cli/output.js';
import { count, phased } from '../../kit/cli/progress.js';

/** `retain recommend --customer ID` and `retain recommend evaluate`. */
export function registerRecommend(program: Command, cli: CliRuntime): void {
  const modelOptions = (cmd: Command): Command =>
    cmd
      .option('--half-life-days <d>', 'recency half-life of personal purchase weights', '90')
      .option('--min-repeat-rate <r>', 'share of buyers re-buying an item for it to be offered again', '0.1')
      .option('--exclude-sku <skus...>', 'more non-product SKUs to exclude')
      .option('--no-default-exclusions', 'do not exclude postage/fee lines');

  const recommend = modelOptions(
    program
      .command('recommend')
      .description('Personalised, explainable product recommendations from purchase history')
      .option('--customer <id>', 'customer id (as imported)')
      .option('--n <n>', 'how many', '10')
      .option('--as-of <date>', 'recommend as of this date (orders after it are ignored)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ retain recommend --customer 12347 --n 10 --json
  $ retain recommend evaluate --json

Score = personal (recency-decayed purchase frequency) + 0.5 × item-item co-occurrence + 0.05 ×
popularity, each normalised per customer; items already bought are only offered again when they are
repeat items. Every recommendation carries its reasons ("because you bought …").

The item statistics come from the kept model (\`retain recommend train\`): trained on first use and
again whenever the stored orders changed since; \`retain serve\`/\`retain worker\` retrain it in the
background after imports. --as-of before its last order, or other exclusions, train a model for the
command alone.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { RecommendOptions, parseOptions } = await import('./schema.js');
      const { recommend } = await import('./service.js');
      const input = parseOptions(RecommendOptions, raw);
      const result = await cli.withContext(cmd, (ctx) => recommend(ctx, input, 'stale'));
      emit(cmd, result, () =>
        [
          `Customer ${result.customer} (${result.orders} orders, as of ${result.asOf.slice(0, 10)}; ` +
            (result.model.version === null
              ? 'a model trained for this command):'
              : `model ${result.model.version} of ${result.model.trainedAt.slice(0, 16).replace('T', ' ')} UTC):`),
          ...result.recommendations.map(
            (r, i) => `${String(i + 1).padStart(3)}. ${r.title} (${r.sku}): ${r.reasons[0]}`,
          ),
        ].join('\n'),
      );
    });

  modelOptions(
    recommend
      .command('evaluate')
      .description(
        'Offline evaluation: hold out each customer’s last basket; Recall/NDCG/PHR@k of four methods',
      )
      .option('--k <k>', 'list length', '10')
      .option('--since <date>', 'only orders at or after this date')
      .option('--until <date>', 'only orders before this date'),
  )
    .addHelpText(
      'after',
      `
Example:
  $ retain recommend evaluate --k 10 --json

Methods: popularity, personal (top frequency with recency decay), itemItem, blend. Recall@k = hits /
held-out products; NDCG@k binary relevance; PHR@k = share of customers with at least one hit.`,
    )
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const { EvaluateOptions, parseOptions } = await import('./schema.js');
      const { evaluate } = await import('./service.js');
      const input = parseOptions(EvaluateOptions, raw);
      const result = await phased(
        'loading orders and scoring four recommenders',
        () => cli.withContext(cmd, (ctx) => evaluate(ctx, input)),
        (r) => `${count(r.customers)} customers`,
      );
      emit(cmd, result, () =>
        [
          `${result.customers} customers evaluated (${result.skipped} with one order skipped), k = ${result.k}`,
          'method      Recall   NDCG     PHR',
          ...Object.entries(result.methods).map(
            ([m, s]) => `${m.padEnd(11)} ${s.recall.toFixed(4)}   ${s.ndcg.toFixed(4)}   ${s.phr.toFixed(4)}`,
          ),
          `best: ${result.best}`,
        ].join('\n'),
      );
    });

  recommend
    .command('train')
    .description('Retrain the kept recommendation model from the stored orders now')
    .option('--if-stale', 'only when orders, refunds or products changed since the last model')
    .addHelpText(
      'after',
      `
Example:
  $ retain recommend train --json

The model (item statistics and item-item neighbours, default non-product exclusions) is stored in the
database and used by \`retain recommend\` and the API. \`retain serve\` and \`retain worker\` retrain it
in the background about a minute after orders or refunds are recorded; this forces it.`,
    )
    .action(async (raw: { ifStale?: boolean }, cmd: Command) => {
      const { trainModel } = await import('./service.js');
      const result = await cli.withContext(cmd, (ctx) =>
        trainModel(ctx, { reason: 'cli', ifStale: raw.ifStale === true }),
      );
      emit(cmd, result, () =>
        result.upToDate
          ? `model ${result.version} (trained ${result.trainedAt}) is up to date; nothing to do`
          : `model ${result.version} trained on ${result.orders} orders of ${result.customers} customers: ${result.items} items, ${result.neighbours} neighbour pairs (${result.seconds}s)`,
      );
    });
}
