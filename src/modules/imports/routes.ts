import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from '@hono/zod-openapi';
import { Entity } from './schema.js';
import { parseMap } from './names.js';
import { parseDelimiter } from './csv.js';
import { checkEncoding } from './encoding.js';
import { parseDateFormat, parseDecimalOption } from './values.js';
import { isTimeZone } from '../../shared/time.js';
import { PRESETS } from './presets/index.js';
import type { Job } from '../jobs/schema.js';
import { AppError } from '../../shared/errors.js';
import type { Auth } from '../../kit/http/auth.js';
import type { RetainApp, ServerDeps } from '../../kit/http/context.js';
import type { ImportJobPayload } from './jobs.js';
import { parseInput, queryOf } from '../../kit/http/input.js';
import { documented, json } from '../../kit/http/openapi.js';
import { importProgress, recentImportJobIds, type ImportProgressRow } from './repository.js';
import { PREVIEW_TEXT_BYTES, previewImport } from './preview.js';

/** Import status as the API shows it: the job, and the importer's report once it ran. */
const ImportStatus = z
  .object({
    importId: z.number(),
    entity: z.string(),
    file: z.string(),
    status: z.enum(['queued', 'running', 'done', 'dead']),
    attempts: z.number(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    report: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        'the `retain import --json` report: counts, and `errors` = rejected rows with line and reason',
    }),
    progress: z
      .object({
        phase: z.enum(['reading', 'merging']),
        rowsRead: z.number(),
        bytesRead: z.number().openapi({ description: 'bytes of the file as uploaded (compressed) read' }),
        bytesTotal: z.number(),
        updatedAt: z.string(),
      })
      .nullable()
      .openapi({
        description:
          'while it runs (and after): rows and bytes read, written at most once a second; null before it starts',
      }),
  })
  .openapi('ImportStatus');

const progressOf = (p: ImportProgressRow | undefined) =>
  p ? { ...p, updatedAt: p.updatedAt.toISOString() } : null;

function status(job: Job, progress?: ImportProgressRow) {
  const p = job.payload as Partial<ImportJobPayload>;
  return {
    importId: job.jobId,
    entity: String(p.entity),
    file: String(p.name),
    status: job.status,
    attempts: job.attempts,
    lastError: job.lastError,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt ? job.finishedAt.toISOString() : null,
    report: (job.result ?? null) as Record<string, unknown> | null,
    progress: progressOf(progress),
  };
}

/** The list's report: the counts, without the rejected rows and warnings (GET /v1/imports/{id} has them). */
function listed(job: Job, progress?: ImportProgressRow) {
  const s = status(job, progress);
  if (!s.report) return s;
  const { errors, warnings, ...rest } = s.report as { errors?: unknown[]; warnings?: unknown[] };
  void errors;
  void warnings;
  return { ...s, report: rest };
}

/** A query parameter checked by the same function as the CLI option, its message kept. */
function checked(field: string, check: (v: string, field: string) => unknown, description: string) {
  return z
    .string()
    .superRefine((v, ctx) => {
      try {
        check(v, field);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .optional()
    .openapi({ description });
}

const UploadQuery = z.object({
  preset: checked(
    'preset',
    (v) => {
      if (!PRESETS.some((p) => p.name === v))
        throw new Error(`unknown preset '${v}'; expected one of ${PRESETS.map((p) => p.name).join(', ')}`);
    },
    'column layout (detected when omitted)',
  ),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, 'expected an ISO 4217 code')
    .optional(),
  filename: z
    .string()
    .max(200)
    .optional()
    .openapi({ description: 'name shown in the report (.gz if compressed)' }),
  map: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({
      description:
        'rename a source column to a generic field, `Their Column=our_field` (repeat the parameter for more), as `retain import --map`',
    }),
  encoding: checked(
    'encoding',
    checkEncoding,
    'text encoding as `retain import --encoding`: utf-8, utf-16le, utf-16be, cp1251, cp1252, latin1, … (default: detected)',
  ),
  delimiter: checked(
    'delimiter',
    parseDelimiter,
    'CSV delimiter: `,` `;` `|` or a tab (`%09`), or comma/semicolon/pipe/tab (default: detected from the header)',
  ),
  decimal: checked(
    'decimal',
    parseDecimalOption,
    'decimal separator of amounts: point, comma or auto (default)',
  ),
  date_format: checked(
    'date_format',
    parseDateFormat,
    'date format as `retain import --date-format`: DD.MM.YYYY, DD/MM/YYYY, MM/DD/YYYY, YYYY-MM-DD, optionally + ` HH:mm[:ss]`',
  ),
  time_zone: checked(
    'time_zone',
    (v) => {
      if (!isTimeZone(v))
        throw new Error(`unknown time zone '${v}'; expected an IANA name such as Europe/Kyiv`);
    },
    'IANA time zone of times without an offset (default: the store time zone, else UTC)',
  ),
  keep_repeated_rows: z.enum(['true', 'false']).optional().openapi({
    description:
      'true keeps order line rows that repeat an earlier row of their order exactly (default: left out and listed, as `retain import --keep-repeated-rows`)',
  }),
});

const PreviewQuery = UploadQuery.omit({ keep_repeated_rows: true }).extend({
  complete: z.enum(['true', 'false']).optional().openapi({
    description: 'true when the body is the whole file (default: its first part)',
  }),
});

/** The most a preview reads of the body: the head of the file, gzip or not. */
const PREVIEW_MAX_BYTES = 1 << 20;

/** The request body, refused past `max` bytes. */
async function bodyBytes(body: ReadableStream<Uint8Array> | null, max: number): Promise<Buffer> {
  if (!body) throw new AppError('validation', 'send the start of the file as the request body');
  const parts: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (bytes > max)
      throw new AppError(
        'payload_too_large',
        `a preview reads at most ${max} bytes: send the first part of the file`,
        { details: { limitBytes: max } },
      );
    parts.push(chunk);
  }
  if (bytes === 0) throw new AppError('validation', 'the file is empty');
  return Buffer.concat(parts);
}

/** Streams the body to `file`, counting bytes; 413 past `max`. Returns the body's SHA-256. */
async function saveBody(
  body: ReadableStream<Uint8Array> | null,
  file: string,
  max: number,
): Promise<{ bytes: number; sha256: string }> {
  if (!body) throw new AppError('validation', 'send the file as the request body');
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  let bytes = 0;
  try {
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      if (bytes > max)
        throw new AppError('payload_too_large', `the upload exceeds ${max} bytes`, {
          details: { limitBytes: max },
        });
      hash.update(chunk);
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  } finally {
    await new Promise<void>((r) => out.end(() => r()));
  }
  if (bytes === 0) throw new AppError('validation', 'the file is empty');
  return { bytes, sha256: hash.digest('hex') };
}

export function registerImportRoutes(app: RetainApp, deps: ServerDeps, auth: Auth): void {
  const tags = ['imports'];
  app.post(
    '/v1/imports/:entity',
    documented(app, auth, 'ingest', {
      method: 'post',
      path: '/v1/imports/{entity}',
      tags,
      summary: 'Upload a CSV/NDJSON file (optionally gzip) to import as a background job',
      description:
        'The body is the file itself. The same file (same bytes, entity and options) uploaded twice is one import; an `Idempotency-Key` header overrides that key. Poll `GET /v1/imports/{id}`.',
      request: {
        params: z.object({ entity: Entity }),
        query: UploadQuery,
        body: {
          required: true,
          content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
        },
      },
      responses: { 202: json(ImportStatus, 'Queued (or the existing import of the same file)') },
    }),
    async (c) => {
      const entity = Entity.safeParse(c.req.param('entity'));
      if (!entity.success)
        throw new AppError('validation', `expected an entity among ${Entity.options.join(', ')}`, {
          where: { field: 'entity' },
        });
      const q = parseInput(UploadQuery, queryOf(c.req.queries()), 'query');
      await mkdir(deps.config.uploadDir, { recursive: true });
      const tmp = join(deps.config.uploadDir, `upload-${randomUUID()}`);
      let saved;
      try {
        saved = await saveBody(c.req.raw.body, tmp, deps.config.maxUploadBytes);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      const map = parseMap(q.map === undefined ? [] : [q.map].flat(), 'map');
      const options = {
        entity: entity.data,
        preset: q.preset,
        currency: q.currency?.toUpperCase(),
        ...(Object.keys(map).length ? { map } : {}),
        ...(q.encoding !== undefined ? { encoding: q.encoding } : {}),
        ...(q.delimiter !== undefined ? { delimiter: q.delimiter } : {}),
        ...(q.decimal !== undefined ? { decimal: q.decimal } : {}),
        ...(q.date_format !== undefined ? { dateFormat: q.date_format } : {}),
        ...(q.time_zone !== undefined ? { timeZone: q.time_zone } : {}),
        ...(q.keep_repeated_rows === 'true' ? { keepRepeatedRows: true } : {}),
      };
      // What this request asks for: the file's bytes and every option (not its display name).
      const request = `${saved.sha256}:${createHash('sha256').update(JSON.stringify(options)).digest('hex').slice(0, 16)}`;
      const given = c.req.header('idempotency-key');
      const key = given ?? `import:${request}`;
      const name = q.filename ?? `upload.${entity.data}`;
      // Keep the file's extension so the importer recognises gzip / NDJSON by name as well as by content;
      // the stored name stays far below file-system limits whatever the upload was called.
      const file = join(deps.config.uploadDir, `${saved.sha256}-${name.replace(/[^\w.-]/g, '_').slice(-60)}`);
      try {
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      const payload: ImportJobPayload = {
        entity: entity.data,
        file,
        name,
        ...(options.preset ? { preset: options.preset } : {}),
        ...(options.currency ? { currency: options.currency } : {}),
        ...(options.map ? { map: options.map } : {}),
        ...(options.encoding ? { encoding: options.encoding } : {}),
        ...(options.delimiter ? { delimiter: options.delimiter } : {}),
        ...(options.decimal ? { decimal: options.decimal } : {}),
        ...(options.dateFormat ? { dateFormat: options.dateFormat } : {}),
        ...(options.timeZone ? { timeZone: options.timeZone } : {}),
        ...(options.keepRepeatedRows ? { keepRepeatedRows: true } : {}),
        request,
      };
      const { job, created } = await deps.jobs.enqueue('import', payload, {
        idempotencyKey: key,
        maxAttempts: 3,
      });
      if (!created && (job.payload as ImportJobPayload).file !== file) await rm(file, { force: true });
      const earlier = job.payload as ImportJobPayload;
      if (
        !created &&
        given !== undefined &&
        (earlier.request ?? earlier.file) !== (earlier.request ? request : file)
      )
        throw new AppError(
          'conflict',
          `Idempotency-Key '${given}' was used for another upload (a different file or options: import ${job.jobId}); ` +
            'send this one with a new key',
          { where: { field: 'Idempotency-Key' } },
        );
      c.header('Location', `/v1/imports/${job.jobId}`);
      return c.json(status(job), 202);
    },
  );
  app.post(
    '/v1/imports/:entity/preview',
    documented(app, auth, 'ingest', {
      method: 'post',
      path: '/v1/imports/{entity}/preview',
      tags,
      summary: 'What an upload of this file would do, from its first bytes (nothing is stored)',
      description:
        `The body is the start of the file (up to ${PREVIEW_MAX_BYTES} bytes; gzip is decompressed as far as it goes, ` +
        `up to ${PREVIEW_TEXT_BYTES} bytes of text), with the upload's options. The answer: the encoding, delimiter, ` +
        'decimal and date formats as read; the preset (given or detected) or why none fits; each column and the ' +
        'field it feeds, or why it is ignored; the required columns missing; the first rows as the import would ' +
        'stage them (amounts in minor units), and how many of the rows read would be imported, rejected or skipped.',
      request: {
        params: z.object({ entity: Entity }),
        query: PreviewQuery,
        body: {
          required: true,
          content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
        },
      },
      responses: { 200: json(z.record(z.string(), z.unknown()), 'The preview') },
    }),
    async (c) => {
      const entity = Entity.safeParse(c.req.param('entity'));
      if (!entity.success)
        throw new AppError('validation', `expected an entity among ${Entity.options.join(', ')}`, {
          where: { field: 'entity' },
        });
      const q = parseInput(PreviewQuery, queryOf(c.req.queries()), 'query');
      const head = await bodyBytes(c.req.raw.body, PREVIEW_MAX_BYTES);
      const map = parseMap(q.map === undefined ? [] : [q.map].flat(), 'map');
      const preview = await previewImport(deps, deps.config.uploadDir, {
        entity: entity.data,
        head,
        complete: q.complete === 'true',
        ...(q.filename !== undefined ? { filename: q.filename } : {}),
        ...(q.preset !== undefined ? { preset: q.preset } : {}),
        ...(q.currency !== undefined ? { currency: q.currency.toUpperCase() } : {}),
        ...(Object.keys(map).length ? { map } : {}),
        ...(q.encoding !== undefined ? { encoding: q.encoding } : {}),
        ...(q.delimiter !== undefined ? { delimiter: q.delimiter } : {}),
        ...(q.decimal !== undefined ? { decimal: q.decimal } : {}),
        ...(q.date_format !== undefined ? { dateFormat: q.date_format } : {}),
        ...(q.time_zone !== undefined ? { timeZone: q.time_zone } : {}),
      });
      return c.json(preview as unknown as Record<string, unknown>);
    },
  );
  app.get(
    '/v1/imports',
    documented(app, auth, 'imports:read', {
      method: 'get',
      path: '/v1/imports',
      tags,
      summary: 'The latest uploads, newest first (their reports without the rejected rows)',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'at most 100' }),
        }),
      },
      responses: {
        200: json(z.object({ imports: z.array(ImportStatus) }).openapi('ImportList'), 'The uploads'),
      },
    }),
    async (c) => {
      const { limit } = parseInput(
        z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
        queryOf(c.req.queries()),
        'query',
      );
      const ids = await recentImportJobIds(deps.db, limit);
      const progress = await importProgress(deps.db, ids);
      const jobs = (await Promise.all(ids.map((id) => deps.jobs.get(id)))).filter(
        (j): j is Job => j !== undefined,
      );
      return c.json({ imports: jobs.map((j) => listed(j, progress.get(j.jobId))) });
    },
  );
  app.get(
    '/v1/imports/:id',
    documented(app, auth, 'imports:read', {
      method: 'get',
      path: '/v1/imports/{id}',
      tags,
      summary: 'Status of an import, with its report and rejected rows once done',
      request: { params: z.object({ id: z.string().regex(/^\d+$/) }) },
      responses: { 200: json(ImportStatus, 'The import') },
    }),
    async (c) => {
      const id = Number(c.req.param('id'));
      const job = Number.isSafeInteger(id) ? await deps.jobs.get(id) : undefined;
      if (!job || job.kind !== 'import')
        throw new AppError('not_found', `no import with id ${c.req.param('id')}`);
      const progress = await importProgress(deps.db, [job.jobId]);
      return c.json(status(job, progress.get(job.jobId)));
    },
  );
}
