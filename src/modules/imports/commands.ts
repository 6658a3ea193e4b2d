import { Argument, type Command } from 'commander';
import { AppError, invalid } from '../../shared/errors.js';
import type { ImportFormat, ImportReport } from './service.js';
import { describeIgnored } from './columnReport.js';
import type { Entity } from './schema.js';
import { ENTITY_NAMES, PRESET_NAMES, REPEATED_ROW, parseMap } from './names.js';
import type { CliRuntime } from '../../kit/module.js';
import { emit } from '../../kit/cli/output.js';
import { progressBar } from '../../kit/cli/progress.js';

/** Human summary of an import. */
export function describeImport(r: ImportReport): string {
  const lines = [
    `${r.entity} from ${r.file} (preset ${r.preset}, ${r.format.type}): ${r.rows.toLocaleString('en-US')} rows in ${r.seconds}s`,
    `  read as ${describeFormat(r.format)}`,
    `  inserted ${r.inserted}, updated ${r.updated}, unchanged ${r.unchanged}, rejected ${r.rejected}` +
      (r.duplicates - (r.repeatedRows ?? 0)
        ? `, superseded duplicates ${r.duplicates - (r.repeatedRows ?? 0)}`
        : ''),
  ];
  if (r.refunds)
    lines.push(
      `  refunds: inserted ${r.refunds.inserted}, updated ${r.refunds.updated}, unchanged ${r.refunds.unchanged}`,
    );
  if (r.identity)
    lines.push(
      `  identity: ${r.identity.linked} anonymous ids linked, ${r.identity.stitched} earlier events joined their customer` +
        (r.identity.conflicts
          ? `, ${r.identity.conflicts} claims of ids linked to another customer refused`
          : ''),
    );
  if (r.guestOrders !== undefined)
    lines.push(
      `  guest orders (no customer id): ${r.guestOrders}; customers created: ${r.customersCreated ?? 0}`,
    );
  if (r.columns) {
    const renamed = Object.entries(r.columns.renamed);
    if (renamed.length)
      lines.push(`  columns read as fields: ${renamed.map(([c, f]) => `${c} → ${f}`).join(', ')}`);
    const ignored = describeIgnored(r.columns);
    if (ignored) lines.push(`  ${ignored}`);
  }
  for (const [reason, n] of Object.entries(r.skipped)) lines.push(`  skipped ${n}: ${reason}`);
  if (r.repeatedRows) {
    const first = r.warnings.filter((w) => w.reason.startsWith(REPEATED_ROW)).slice(0, 5);
    lines.push(
      `  left out ${r.repeatedRows.toLocaleString('en-US')} rows that repeat an earlier row of their order exactly ` +
        `(lines ${first.map((w) => w.line).join(', ')}${r.repeatedRows > first.length ? ', …' : ''}; --json lists them, --keep-repeated-rows keeps them)`,
    );
  }
  const warnings = r.warnings.filter((w) => !w.reason.startsWith(REPEATED_ROW));
  for (const w of warnings.slice(0, 20)) lines.push(`  line ${w.line}: ${w.reason}`);
  if (warnings.length > 20) lines.push(`  … and ${warnings.length - 20} more warnings (use --json)`);
  for (const e of r.errors.slice(0, 20)) lines.push(`  line ${e.line}: ${e.reason}`);
  const more = r.errors.length - 20 + r.errorsOmitted;
  if (more > 0) lines.push(`  … and ${more} more errors (use --json for the full list)`);
  return lines.join('\n');
}

/** `utf-8 (detected: BOM), delimiter ';' (detected), decimal comma (detected), …` */
export function describeFormat(f: ImportFormat): string {
  const how = (detected: boolean, extra?: string) =>
    detected ? ` (detected${extra ? `: ${extra}` : ''})` : '';
  const byWhat = { bom: 'BOM', 'nul-pattern': 'NUL bytes', default: 'default', option: '' };
  return [
    `${f.encoding.value}${how(f.encoding.detected, byWhat[f.encoding.by])}`,
    ...(f.delimiter ? [`delimiter '${f.delimiter.value}'${how(f.delimiter.detected)}`] : []),
    `decimal ${f.decimal.value}${how(f.decimal.detected)}`,
    `dates ${f.dateFormat.value}${how(f.dateFormat.detected)}`,
    `time zone ${f.timeZone.value} (${f.timeZone.from === 'store' ? 'store setting' : f.timeZone.from})`,
  ].join(', ');
}

export function registerImport(program: Command, cli: CliRuntime): void {
  program
    .command('import')
    .description(
      'import orders, customers, products, marketing spend or events from CSV / NDJSON (optionally .gz)',
    )
    .addArgument(new Argument('<entity>', 'what the file holds').choices(ENTITY_NAMES))
    .argument('<file>', 'CSV or NDJSON file, optionally gzip-compressed')
    .option(
      '--preset <name>',
      `column layout: ${PRESET_NAMES.join(', ')} (detected from the header when omitted)`,
    )
    .option(
      '--map <col=field...>',
      'rename a source column to a generic field, e.g. --map "Order Number=order_id"',
      [],
    )
    .option('--currency <code>', 'currency when the file has none (default: the store currency, else USD)')
    .option(
      '--max-rejected <n|p%>',
      'rejected rows allowed before the command fails with exit code 1 (valid rows are imported either way)',
      '0',
    )
    .option(
      '--keep-repeated-rows',
      'keep order line rows that repeat an earlier row of the same order exactly (default: left out and listed)',
    )
    .option(
      '--encoding <name>',
      'text encoding: utf-8, utf-16le, utf-16be, cp1251, cp1252, latin1, … (default: BOM, UTF-16 NUL pattern, else UTF-8)',
    )
    .option(
      '--delimiter <char>',
      "CSV delimiter: , ; | or tab (default: detected from the header; e.g. --delimiter ';')",
    )
    .option(
      '--decimal <point|comma>',
      'decimal separator of amounts (default auto: see docs/import-formats.md)',
    )
    .option(
      '--date-format <format>',
      'DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYY-MM-DD, optionally + " HH:mm[:ss]" (default: ISO 8601 and DD.MM.YYYY)',
    )
    .option(
      '--time-zone <zone>',
      'IANA time zone of times without an offset (default: the store time zone, else UTC)',
    )
    .option(
      '--workers <n>',
      'parse workers for big CSV files (default: one per core from 16 MB; 0 = parse on one thread)',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ retain import orders data/online_retail.csv.gz --preset online-retail
  $ retain import customers customers.csv --map "Customer Email=email" --json
  $ retain import orders export.csv --encoding cp1251 --delimiter ';' --decimal comma --date-format DD.MM.YYYY
Re-importing a file is idempotent: unchanged rows are left alone, changed rows updated.
Rejected rows are listed with their line number and reason; valid rows are still imported.`,
    )
    .action(
      async (
        entity: string,
        file: string,
        opts: {
          preset?: string;
          map: string[];
          currency?: string;
          workers?: string;
          maxRejected: string;
          keepRepeatedRows?: boolean;
          encoding?: string;
          delimiter?: string;
          decimal?: string;
          dateFormat?: string;
          timeZone?: string;
        },
        cmd: Command,
      ) => {
        const limit = parseMaxRejected(opts.maxRejected);
        const bar = progressBar(`import ${entity}`);
        const { importFile } = await import('./service.js');
        const report = await cli.withContext(cmd, (ctx) =>
          importFile(ctx, {
            entity: entity as Entity,
            file,
            ...(opts.preset ? { preset: opts.preset } : {}),
            map: parseMap(opts.map),
            ...(opts.currency ? { currency: opts.currency } : {}),
            ...(opts.workers !== undefined ? { workers: parseWorkers(opts.workers) } : {}),
            ...(opts.keepRepeatedRows ? { keepRepeatedRows: true } : {}),
            ...(opts.encoding !== undefined ? { encoding: opts.encoding } : {}),
            ...(opts.delimiter !== undefined ? { delimiter: opts.delimiter } : {}),
            ...(opts.decimal !== undefined ? { decimal: opts.decimal } : {}),
            ...(opts.dateFormat !== undefined ? { dateFormat: opts.dateFormat } : {}),
            ...(opts.timeZone !== undefined ? { timeZone: opts.timeZone } : {}),
            onProgress: (p) => bar.update(p),
          }),
        );
        bar.done();
        emit(cmd, report, () => describeImport(report));
        const allowed = limit.percent ? Math.floor((limit.value / 100) * report.rows) : limit.value;
        if (report.rejected > allowed)
          throw new AppError(
            'conflict',
            `${report.rejected.toLocaleString('en-US')} of ${report.rows.toLocaleString('en-US')} rows rejected, ` +
              `more than --max-rejected ${opts.maxRejected}${limit.percent ? ` (${allowed})` : ''}; the valid rows ` +
              `were imported: fix the rejected rows and import the file again (unchanged rows are left alone)`,
            { where: { file } },
          );
      },
    );
}

/** `--max-rejected`: a count (`25`) or a share of the rows read (`0.5%`). */
export function parseMaxRejected(raw: string): { value: number; percent: boolean } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(raw);
  const value = m ? Number(m[1]) : NaN;
  const percent = m?.[2] === '%';
  if (!m || (!percent && !Number.isInteger(value)) || (percent && value > 100))
    throw invalid(`expected a whole number of rows or a percentage like 0.5%, got '${raw}'`, {
      field: '--max-rejected',
    });
  return { value, percent };
}

function parseWorkers(raw: string): number {
  if (!/^\d{1,2}$/.test(raw.trim()))
    throw invalid(`expected a whole number of parse workers (0 = none), got '${raw}'`, {
      field: '--workers',
    });
  return Number(raw.trim());
}
