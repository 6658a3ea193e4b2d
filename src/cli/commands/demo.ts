import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { packageRoot } from '../../shared/packageRoot.js';
import { describeImport } from '../../modules/imports/commands.js';
import { describeSummary } from '../../modules/reports/commands.js';
import { emit, log } from '../../kit/cli/output.js';
import { progressBar } from '../../kit/cli/progress.js';

/** The shipped Online Retail file (data/ at the package root). */
export const demoFile = (): string => join(packageRoot(), 'data/online_retail.csv.gz');

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'import the shipped Online Retail data into ./retain-demo.duckdb (once) and print the headline report',
    )
    .option('--demo-db <path>', 'DuckDB file for the demo', './retain-demo.duckdb')
    .addHelpText(
      'after',
      '\nExample:\n  $ npx retain demo\n  $ npx retain --db retain-demo.duckdb report summary --json',
    )
    .action(async (opts: { demoDb: string }, cmd: Command) => {
      const file = demoFile();
      if (!existsSync(file)) throw new AppError('not_found', `the demo data is missing: ${file}`);
      const [
        { importFile },
        { hasImported },
        { summaryReport },
        { openGlobalStore, moduleContext },
        { addDemoContacts },
      ] = await Promise.all([
        import('../../modules/imports/service.js'),
        import('../../modules/imports/repository.js'),
        import('../../modules/reports/service.js'),
        import('../db.js'),
        import('../../modules/customers/service.js'),
      ]);
      const db = await openGlobalStore(cmd, { db: opts.demoDb });
      try {
        let imported = null;
        if (!(await hasImported(db, 'online_retail.csv.gz'))) {
          log(
            `Importing the UCI Online Retail data (541,909 invoice lines, CC BY 4.0) into ${db.location} …`,
          );
          const bar = progressBar('import orders');
          imported = await importFile(await moduleContext(db), {
            entity: 'orders',
            file,
            preset: 'online-retail',
            onProgress: (p) => bar.update(p),
          });
          bar.done();
          log(describeImport(imported));
        } else {
          log(`Using the demo data already in ${db.location}.`);
        }
        const contacts = await addDemoContacts(await moduleContext(db));
        if (contacts > 0)
          log(
            `Gave ${contacts.toLocaleString('en-US')} customers invented emails, phones, locales and consent (the data has none; docs/messaging.md#the-demo-stores-contacts).`,
          );
        const summary = await summaryReport(await moduleContext(db));
        emit(cmd, { database: db.location, imported, contacts, summary }, () =>
          [
            '',
            `Online Retail (UK gift shop) — headline report`,
            describeSummary(summary),
            '',
            `Next: retain --db ${opts.demoDb} report summary --as-of 2011-06-30   (see README "5-minute tour")`,
          ].join('\n'),
        );
      } finally {
        await db.close();
      }
    });
}
