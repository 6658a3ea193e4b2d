import type { ModuleContext } from '../../kit/context.js';
import type { z } from '@hono/zod-openapi';
import { validationError, type Issue } from '../../kit/http/errors.js';
import { decodeCursor, encodeCursor } from '../../kit/http/openapi.js';
import { AppError } from '../../shared/errors.js';
import { parseDay } from '../../shared/time.js';
import { SpendInput, type SpendRow } from '../imports/schema.js';
import { mergeRows, parseJsonRow } from '../ingest/service.js';
import * as repo from './repository.js';
import { SpendBatch, type SpendListQuery } from './schema.js';

const isKey = (v: unknown): v is { day: string; channel: string; campaign: string } =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as { day?: unknown }).day === 'string' &&
  parseDay((v as { day: string }).day) !== null &&
  typeof (v as { channel?: unknown }).channel === 'string' &&
  typeof (v as { campaign?: unknown }).campaign === 'string';

export async function listSpend({ db }: ModuleContext, q: z.infer<typeof SpendListQuery>) {
  const after = decodeCursor(q.cursor, isKey);
  if (q.cursor && !after) throw new AppError('validation', 'invalid cursor', { where: { field: 'cursor' } });
  const day = (s: string | undefined, field: string) => {
    if (s === undefined) return undefined;
    const d = parseDay(s);
    if (!d)
      throw new AppError('validation', `expected a calendar day YYYY-MM-DD, got '${s}'`, {
        where: { field },
      });
    return d;
  };
  const from = day(q.from, 'from');
  const to = day(q.to, 'to');
  const rows = await repo.listSpend(db, {
    limit: q.limit + 1,
    ...(after
      ? { after: { day: parseDay(after.day) as Date, channel: after.channel, campaign: after.campaign } }
      : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(q.channel ? { channel: q.channel } : {}),
  });
  const pageRows = rows.slice(0, q.limit);
  const last = pageRows[pageRows.length - 1];
  const dayOf = (d: Date) => d.toISOString().slice(0, 10);
  return {
    data: pageRows.map((r) => ({
      date: dayOf(r.spent_on),
      channel: r.channel,
      campaign: r.campaign,
      amountMinor: r.amount_minor,
      currency: r.currency,
    })),
    nextCursor:
      rows.length > q.limit && last
        ? encodeCursor({ day: dayOf(last.spent_on), channel: last.channel, campaign: last.campaign })
        : null,
  };
}

/** Upserts spend rows by (date, channel, campaign); all rows must be valid (issues by index). */
export async function upsertSpend(ctx: ModuleContext, { body }: { body: unknown }) {
  const { db } = ctx;
  const now = ctx.clock.now();
  const env = SpendBatch.safeParse(body);
  if (!env.success) throw validationError(env.error, 'body');
  const rows: SpendRow[] = [];
  const issues: Issue[] = [];
  env.data.rows.forEach((r, i) => {
    const p = parseJsonRow(SpendInput, r, ['rows', i]);
    if (p.success) rows.push(p.data);
    else issues.push(...p.issues);
  });
  if (issues.length) {
    const first = issues[0] as Issue;
    throw new AppError('validation', `invalid spend: ${first.path}: ${first.message}`, {
      details: { issues },
    });
  }
  const out = await mergeRows(db, { entity: 'spend', rows }, now);
  return { inserted: out.inserted, updated: out.updated, unchanged: out.unchanged };
}
