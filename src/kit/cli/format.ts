/** Renders rows as an aligned text table (numbers right-aligned). */
export function table(headers: string[], rows: (string | number | null)[][]): string {
  const cells = rows.map((r) =>
    r.map((c) =>
      c === null ? '—' : typeof c === 'number' ? c.toLocaleString('en-US', { maximumFractionDigits: 4 }) : c,
    ),
  );
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const line = (r: string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Formats a money amount in currency units for people: 8,300,065.41 GBP. */
export function money(amount: number | null, currency: string): string {
  return amount === null
    ? '—'
    : `${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
}

export function percent(x: number | null): string {
  return x === null ? '—' : `${(x * 100).toFixed(1)}%`;
}
