import { readFile } from 'node:fs/promises';
import { AppError } from '../../shared/errors.js';
import { csvField } from '../segments/audience.js';

/**
 * The CLI's side of discount-code lists (`retain campaigns codes`, `codes-export`): reading a store's
 * file — plain text, one code per line, or a CSV whose first column is the code (a header line such as
 * `code` or `Discount Code` is skipped; Shopify's bulk-code export works as it is) — keeping each code's
 * line, so the service's errors (`codes[i]`) name the file's line; and writing the export as CSV.
 */

export interface CodeLine {
  code: string;
  line: number;
}

/** The first field of a CSV line (RFC 4180 quotes), or the line. */
function firstField(text: string): string {
  const t = text.trim();
  if (!t.startsWith('"')) return (t.split(',')[0] ?? '').trim();
  let out = '';
  for (let i = 1; i < t.length; i++) {
    if (t[i] === '"') {
      if (t[i + 1] === '"') {
        out += '"';
        i++;
      } else break;
    } else out += t[i];
  }
  return out.trim();
}

export async function readCodesFile(file: string): Promise<CodeLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AppError('validation', `cannot read ${file}: ${(err as Error).message}`, { where: { file } });
  }
  const out: CodeLine[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const code = firstField(raw);
      if (code === '') return;
      // A header: the first non-empty line naming the column.
      if (out.length === 0 && /^(discount[ _]?)?codes?$|^name$|^coupon[ _]?code$/i.test(code)) return;
      out.push({ code, line: i + 1 });
    });
  if (out.length === 0) throw new AppError('validation', `${file} has no codes`, { where: { file } });
  return out;
}

/** The service's error about `codes[i]`, placed at the file's line. */
export function codesFileError(err: unknown, file: string, codes: readonly CodeLine[]): unknown {
  if (!(err instanceof AppError)) return err;
  const m = /^codes\[(\d+)\]$/.exec(err.where?.field ?? '');
  const at = m ? codes[Number(m[1])] : undefined;
  if (!at) return err;
  const message = err.message.replace(
    /codes\[(\d+)\]/g,
    (_, j: string) => `line ${codes[Number(j)]?.line ?? '?'}`,
  );
  return new AppError(err.code, message, { where: { file, line: at.line, field: 'code' } });
}

export function toCsv(
  rows: readonly {
    code: string;
    variant: string;
    customer: string | null;
    kind: string | null;
    value: number | null;
    expiresAt: string | null;
  }[],
): string {
  const head = 'code,variant,customer,kind,value,expires_at\n';
  return (
    head +
    rows
      .map(
        (r) => [r.code, r.variant, r.customer, r.kind, r.value, r.expiresAt].map(csvField).join(',') + '\n',
      )
      .join('')
  );
}
