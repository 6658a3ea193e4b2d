/**
 * Golden parity: every report, CLV, basket and recommendation command gives the same JSON through the
 * CLI (`retain … --json`, run in-process) and through HTTP, and the same JSON as the fixtures recorded
 * in test/fixtures/parity/ (wall-time `seconds` fields normalised). Runs on a slice of the shipped
 * Online Retail data (its first 100,000 lines, December 2010 to February 2011) in a DuckDB file.
 * `RETAIN_UPDATE_PARITY=1 npx vitest run test/parity` rewrites the fixtures.
 */
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { CLV_JOBS } from '../../src/modules/clv/jobs.js';
import { importFile } from '../../src/modules/imports/service.js';
import { JobRunner } from '../../src/modules/jobs/service.js';
import { openStore } from '../../src/modules/store.js';
import type { Database } from '../../src/storage/port.js';
import { REPO_ROOT } from '../support/bundle.js';
import { testApp } from '../support/server.js';
import { testContext } from '../support/context.js';
import { ManualClock } from '../../src/kit/clock.js';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/parity');
const UPDATE = process.env.RETAIN_UPDATE_PARITY === '1';
const LINES = 100_000;
const CUSTOMER = '17850';

/**
 * Replaces wall-time `seconds` fields (at any depth) by 0, and the wall-clock time a recommendation
 * model was trained at (`trainedAt`: the CLI trains it, HTTP then uses the same stored model) by a
 * fixed mark.
 */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalise);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [
        k,
        k === 'seconds' && typeof x === 'number'
          ? 0
          : k === 'trainedAt' && typeof x === 'string'
            ? '(training time)'
            : normalise(x),
      ]),
    );
  return v;
}

/** Compares with the fixture `name` (or records it with RETAIN_UPDATE_PARITY=1). */
function golden(name: string, actual: unknown): void {
  const file = join(FIXTURES, name);
  const text = typeof actual === 'string' ? actual : JSON.stringify(actual, null, 2) + '\n';
  if (UPDATE || !existsSync(file)) {
    writeFileSync(file, text);
    return;
  }
  expect(text, name).toBe(readFileSync(file, 'utf8'));
}

let dir: string;
let dbFile: string;

/** Runs `retain --db <store> --json …args` in-process and returns its parsed stdout. */
async function cli(...args: string[]): Promise<unknown> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await buildProgram().parseAsync(['node', 'retain', '--db', dbFile, '--json', ...args]);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return normalise(JSON.parse(out));
}

/** The command lines and the HTTP calls that must answer the same. */
const CLV_FIT_MODELS = ['bgnbd', 'pareto-nbd', 'mbgnbd', 'gamma-gamma'] as const;
const REPORTS: [name: string, cli: string[], query: string][] = [
  ['summary', [], ''],
  ['ltv', ['--months', '2'], 'months=2'],
  ['retention', ['--period', 'month'], 'period=month'],
  ['cohorts', ['--period', 'month'], 'period=month'],
  ['rfm', [], ''],
  ['channels', [], ''],
  ['diagnose', ['--current', '2011-01', '--base', '2010-12'], 'current=2011-01&base=2010-12'],
  ['digest', ['--month', '2011-01'], 'month=2011-01'],
];
const BASKET: [name: string, cli: string[], query: string][] = [
  ['itemsets', ['--min-support', '0.02', '--max-size', '3'], 'minSupport=0.02&maxSize=3'],
  ['rules', ['--min-support', '0.01', '--min-confidence', '0.3'], 'minSupport=0.01&minConfidence=0.3'],
  ['bundles', ['--min-support', '0.005'], 'minSupport=0.005'],
  ['fbt', ['--top', '10'], 'top=10'],
  ['upsell', ['--min-customers', '1', '--min-price-ratio', '1.1'], 'minCustomers=1&minPriceRatio=1.1'],
];
const CALIBRATION_END = '2011-01-31';
const HOLDOUT_END = '2011-02-20';

describe('CLI and HTTP parity on an Online Retail slice (DuckDB)', () => {
  const cliJson = new Map<string, unknown>();

  beforeAll(async () => {
    mkdirSync(FIXTURES, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'retain-parity-'));
    dbFile = join(dir, 'store.duckdb');
    const csv = join(dir, 'slice.csv');
    const lines: string[] = [];
    const rl = createInterface({
      input: createReadStream(join(REPO_ROOT, 'data/online_retail.csv.gz')).pipe(createGunzip()),
    });
    for await (const line of rl) {
      lines.push(line);
      if (lines.length > LINES) break;
    }
    rl.close();
    writeFileSync(csv, lines.join('\n') + '\n');
    const db = await openStore({ db: dbFile });
    try {
      await importFile(testContext(db, new ManualClock('2011-03-01T00:00:00Z')), {
        entity: 'orders',
        file: csv,
        preset: 'online-retail',
      });
    } finally {
      await db.close();
    }

    // The CLI first (each command opens and closes the store) …
    // CLV first: its stored predictions add predicted LTV to the reports.
    for (const model of CLV_FIT_MODELS)
      cliJson.set(
        `clv-fit-${model}`,
        await cli('clv', 'fit', '--model', model, '--calibration-end', CALIBRATION_END, '--force'),
      );
    cliJson.set(
      'clv-validate',
      await cli(
        'clv',
        'validate',
        '--model',
        'pareto-nbd',
        '--calibration-end',
        CALIBRATION_END,
        '--holdout-end',
        HOLDOUT_END,
        '--force',
      ),
    );
    const predictions = join(dir, 'predictions.csv');
    cliJson.set(
      'clv-predict',
      await cli(
        'clv',
        'predict',
        '--calibration-end',
        CALIBRATION_END,
        '--horizon',
        '13',
        '--force',
        '--out',
        predictions,
        '--details',
      ),
    );
    cliJson.set('clv-predict-file', readFileSync(predictions, 'utf8'));
    for (const [name, args] of REPORTS) cliJson.set(`report-${name}`, await cli('report', name, ...args));
    const digestFile = join(dir, 'digest.md');
    await cli('report', 'digest', '--month', '2011-01', '--out', digestFile);
    cliJson.set('report-digest-file', readFileSync(digestFile, 'utf8'));
    for (const [name, args] of BASKET) cliJson.set(`basket-${name}`, await cli('basket', name, ...args));
    cliJson.set('recommend-customer', await cli('recommend', '--customer', CUSTOMER, '--n', '5'));
    cliJson.set('recommend-evaluate', await cli('recommend', 'evaluate', '--k', '5'));
  }, 600_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('through HTTP', () => {
    let db: Database;
    let t: Awaited<ReturnType<typeof testApp>>;
    beforeAll(async () => {
      db = await openStore({ db: dbFile });
      t = await testApp(db);
    });
    afterAll(() => db.close());

    const get = async (path: string) => {
      const r = await t.call('GET', path, { role: 'analyst' });
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      return normalise(r.json);
    };
    const post = async (path: string, body: unknown) => {
      const r = await t.call('POST', path, { role: 'analyst', body });
      expect(r.status, `${path}: ${r.text}`).toBe(200);
      return normalise(r.json);
    };
    const same = (name: string, http: unknown) => {
      expect(http, name).toEqual(cliJson.get(name));
      golden(`${name}.json`, cliJson.get(name));
    };

    it.each(REPORTS)('report %s', async (name, _args, query) => {
      same(`report-${name}`, await get(`/v1/reports/${name}${query ? `?${query}` : ''}`));
    });

    it('report digest --out writes the Markdown file', () => {
      golden('report-digest.md', cliJson.get('report-digest-file'));
    });

    it.each(CLV_FIT_MODELS)('clv fit %s', async (model) => {
      const body = { model, calibrationEnd: CALIBRATION_END, force: true };
      same(`clv-fit-${model}`, await post('/v1/clv/fits', body));
    });

    it('clv validate', async () => {
      const body = {
        model: 'pareto-nbd',
        calibrationEnd: CALIBRATION_END,
        holdoutEnd: HOLDOUT_END,
        force: true,
      };
      same('clv-validate', await post('/v1/clv/validations', body));
    });

    it('clv predict (a job over HTTP: its result holds the CLI JSON)', async () => {
      const body = { calibrationEnd: CALIBRATION_END, horizon: 13, force: true };
      const queued = await t.call('POST', '/v1/clv/predictions', { role: 'analyst', body });
      expect(queued.status, queued.text).toBe(202);
      await new JobRunner({ db, handlers: CLV_JOBS, logger: pino({ level: 'silent' }) }).drain();
      const done = await t.call('GET', `/v1/clv/predictions/${queued.json.jobId}`, { role: 'analyst' });
      expect(done.json.status).toBe('done');
      const result = normalise(done.json.result) as Record<string, unknown>;
      // The job's result is the CLI's JSON document plus the job's `out` (always null).
      const { out, ...document } = result;
      expect(out).toBeNull();
      same('clv-predict', document);
      golden('clv-predict-job.json', result);
      golden('clv-predict.csv', cliJson.get('clv-predict-file'));
    });

    it.each(BASKET)('basket %s', async (name, _args, query) => {
      same(`basket-${name}`, await get(`/v1/basket/${name}${query ? `?${query}` : ''}`));
    });

    it('recommend a customer', async () => {
      same('recommend-customer', await get(`/v1/customers/${CUSTOMER}/recommendations?n=5`));
    });

    it('recommend evaluate', async () => {
      same('recommend-evaluate', await get('/v1/recommendations/evaluation?k=5'));
    });
  });
});
