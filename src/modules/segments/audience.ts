import { createHash } from 'node:crypto';
import type { ModuleContext } from '../../kit/context.js';
import { issuesError, validationError } from '../../kit/http/errors.js';
import type { SqlValue } from '../../storage/port.js';
import * as audienceRepo from './audienceRepository.js';
import { PLAIN_COLUMNS, type AudienceRow, type ExportRow, type PlainColumn } from './audienceRepository.js';
import {
  AudienceExportInput,
  type AudienceExport,
  type AudienceExportResult,
  type ExportKind,
} from './audienceSchema.js';
import { countMembers } from './repository.js';
import { compiledSegment } from './service.js';

/**
 * Audience exports (docs/segments.md#audiences): a segment's members as CSV — hashed email and phone
 * of the members who granted `ads` consent, for customer-match uploads to ad platforms, or chosen
 * columns of every member for the shop's own use. Every export is recorded with the customers it held,
 * so the next export of the same segment and kind can list only who joined and who left.
 */

// --- hashing -------------------------------------------------------------------------------------

/** The email as ad platforms hash it: trimmed, lower-case; null when empty or not an address. */
export function normalEmail(raw: string | null): string | null {
  const e = raw?.trim().toLowerCase() ?? '';
  return e.includes('@') ? e : null;
}

/**
 * The phone in E.164 (`+` and 8–15 digits, no leading 0 in the country code), as ad platforms hash
 * it: the spaces, dashes, dots, slashes and brackets people write removed, `00` read as `+`; null
 * when the number is not in international form (a national number's country cannot be known).
 */
export function e164(raw: string | null): string | null {
  if (!raw) return null;
  let n = raw.trim().replace(/[\s\-.()/]/g, '');
  if (n.startsWith('00')) n = `+${n.slice(2)}`;
  return /^\+[1-9]\d{7,14}$/.test(n) ? n : null;
}

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The two hashes of a customer's row ('' when missing); null when neither can be made. */
function hashesOf(r: AudienceRow): { email: string; phone: string } | null {
  const email = normalEmail(r.email);
  const phone = e164(r.phone);
  if (email === null && phone === null) return null;
  return { email: email ? sha256(email) : '', phone: phone ? sha256(phone) : '' };
}

// --- CSV -----------------------------------------------------------------------------------------

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or edge spaces. */
export function csvField(v: SqlValue | undefined): string {
  if (v === null || v === undefined) return '';
  let s = v instanceof Date ? v.toISOString() : String(v);
  // A text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading ' (OWASP's
  // CSV injection advice); a phone number in international form stays as it is.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s) && !/^\+[\d ().-]+$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvLine = (values: readonly (SqlValue | undefined)[]) => values.map(csvField).join(',') + '\n';

// --- columns -------------------------------------------------------------------------------------

export const DEFAULT_COLUMNS: readonly PlainColumn[] = [
  'id',
  'email',
  'first_name',
  'last_name',
  'country',
  'orders',
  'revenue_minor',
  'last_order_at',
  'rfm_segment',
  'clv_minor',
];

/** `--columns a,b,c` (or a list) checked against {@link PLAIN_COLUMNS}; the bad one named. */
function columnsOf(raw: string | string[] | undefined): PlainColumn[] {
  if (raw === undefined) return [...DEFAULT_COLUMNS];
  const list = (Array.isArray(raw) ? raw : raw.split(',')).map((c) => c.trim());
  const bad = (path: string, message: string) => issuesError([{ path, message }], 'export');
  if (list.every((c) => c === '')) throw bad('columns', 'expected at least one column');
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const at = Array.isArray(raw) ? `columns[${i}]` : 'columns';
    if (!(c in PLAIN_COLUMNS))
      throw bad(at, `unknown column '${c}' (columns: ${Object.keys(PLAIN_COLUMNS).join(', ')})`);
    if (seen.has(c)) throw bad(at, `column '${c}' is named twice`);
    seen.add(c);
  });
  return list as PlainColumn[];
}

/** A plain row's values: dates of birth as days, instants in ISO 8601. */
function plainValues(r: AudienceRow, columns: readonly PlainColumn[]): SqlValue[] {
  return columns.map((k) => {
    const v = r[`col_${k}`] ?? null;
    return k === 'birthday' && v instanceof Date ? v.toISOString().slice(0, 10) : v;
  });
}

// --- exports -------------------------------------------------------------------------------------

function exportOut(r: ExportRow): AudienceExport {
  return {
    id: r.export_id,
    segment: r.segment,
    kind: r.kind as ExportKind,
    columns: r.columns === null ? null : r.columns.split(','),
    asOf: r.as_of.toISOString(),
    createdAt: r.created_at.toISOString(),
    createdBy: r.created_by,
    members: r.members,
    rows: r.exported,
    previousExportId: r.previous_export_id,
    added: r.added,
    removed: r.removed,
  };
}

/**
 * Exports segment `name` as CSV and records the export with its member set, in one transaction:
 * - `hashed` (default): `email_sha256,phone_sha256` of the members whose `ads` consent is granted
 *   ({@link normalEmail}, {@link e164}; '' when missing; a member with neither is left out);
 * - `plain`: the chosen `columns` of every member (no consent filter: the shop's own use).
 * With `changes`, the file holds only the customers added and removed since the previous export of
 * the same segment and kind, a `change` column first (`added` / `removed`); removed customers appear
 * as they are now, and those no longer known (erased, merged away, no address left) are counted.
 * `deliver` (the CLI's `--out`) runs inside the transaction: when it fails, nothing is recorded.
 */
export async function exportAudience(
  ctx: ModuleContext,
  {
    name,
    body,
    by,
    deliver,
  }: { name: string; body: unknown; by: string | null; deliver?: (csv: string) => Promise<void> },
): Promise<AudienceExportResult> {
  const parsed = AudienceExportInput.safeParse(body ?? {});
  if (!parsed.success) throw validationError(parsed.error, 'export');
  const input = parsed.data;
  const kind = input.kind;
  if (kind === 'hashed' && input.columns !== undefined)
    throw issuesError(
      [{ path: 'columns', message: 'columns apply to plain exports (kind plain, --plain)' }],
      'export',
    );
  const columns = kind === 'plain' ? columnsOf(input.columns) : [];
  const seg = await compiledSegment(ctx, { name, asOf: input.asOf });

  return ctx.db.transaction(async (tx) => {
    const rows = await audienceRepo.audienceRows(tx, seg.compiled, { adsOnly: kind === 'hashed', columns });
    const members = kind === 'hashed' ? await countMembers(tx, seg.compiled) : rows.length;

    // The current file's lines by customer, and who is in it.
    const lines = new Map<number, SqlValue[]>();
    let noAddress = 0;
    let unusablePhones = 0;
    for (const r of rows) {
      if (kind === 'plain') {
        lines.set(r.customer_id, plainValues(r, columns));
        continue;
      }
      if (r.phone?.trim() && e164(r.phone) === null) unusablePhones++;
      const h = hashesOf(r);
      if (h) lines.set(r.customer_id, [h.email, h.phone]);
      else noAddress++;
    }

    // Against the previous export of this segment and kind.
    const previous = await audienceRepo.latestExport(tx, name, kind);
    const before = previous ? await audienceRepo.exportMemberIds(tx, previous.export_id) : [];
    const beforeSet = new Set(before);
    const added = [...lines.keys()].filter((id) => !beforeSet.has(id));
    const gone = before.filter((id) => !lines.has(id));
    // Erased customers' rows are gone from the history: the recorded size tells how many left.
    const removed = previous ? Math.max(0, previous.exported - (before.length - gone.length)) : 0;
    const removedLines: SqlValue[][] = [];
    for (const r of await audienceRepo.customersNow(tx, gone, columns)) {
      if (r.erased_at !== null) continue;
      if (kind === 'plain') removedLines.push(plainValues(r, columns));
      else {
        const h = hashesOf(r);
        if (h) removedLines.push([h.email, h.phone]);
      }
    }

    const header = kind === 'plain' ? [...columns] : ['email_sha256', 'phone_sha256'];
    let csv: string;
    let csvRows: number;
    if (input.changes) {
      csv = csvLine(['change', ...header]);
      for (const id of added) csv += csvLine(['added', ...lines.get(id)!]);
      for (const l of removedLines) csv += csvLine(['removed', ...l]);
      csvRows = added.length + removedLines.length;
    } else {
      csv = csvLine(header);
      for (const l of lines.values()) csv += csvLine(l);
      csvRows = lines.size;
    }

    const row = await audienceRepo.insertExport(
      tx,
      {
        segment: name,
        kind,
        columns: kind === 'plain' ? columns.join(',') : null,
        as_of: seg.asOf,
        created_at: ctx.clock.now(),
        created_by: by,
        members,
        exported: lines.size,
        previous_export_id: previous?.export_id ?? null,
        added: previous ? added.length : null,
        removed: previous ? removed : null,
      },
      [...lines.keys()],
    );
    if (deliver) await deliver(csv);
    return {
      export: exportOut(row),
      csvRows,
      skipped: kind === 'hashed' ? { noConsent: members - rows.length, noAddress, unusablePhones } : null,
      changes: {
        previousExportId: previous?.export_id ?? null,
        added: added.length,
        removed,
        removedListed: removedLines.length,
        removedUnlisted: removed - removedLines.length,
      },
      csv,
    };
  });
}

/** A segment's recorded exports, newest first (the last 100). */
export async function listAudienceExports(
  ctx: ModuleContext,
  { name }: { name: string },
): Promise<{ exports: AudienceExport[] }> {
  return { exports: (await audienceRepo.listExports(ctx.db, name, 100)).map(exportOut) };
}
