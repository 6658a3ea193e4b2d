/**
 * How a generic file's header meets Retain's field names: exact names are used as they are; a column
 * that differs only in case, spaces, dashes or dots (`Email`, `Order ID`, `unit-price`) is read as its
 * field; every other column is ignored and reported, with the nearest field name when one is close
 * (`emial` → did you mean `email`?). `--map` renames come first and always win.
 */
export interface ColumnReport {
  /** Columns read under another field name: header → field (case and spacing differences). */
  renamed: Record<string, string>;
  /** Columns that are no field of the entity: not imported. */
  ignored: { column: string; didYouMean?: string }[];
}

/** One line about ignored columns for humans, or '' when none. */
export function describeIgnored(report: ColumnReport): string {
  if (report.ignored.length === 0) return '';
  return `ignored column${report.ignored.length === 1 ? '' : 's'} (not a field; --map col=field reads one): ${report.ignored
    .map((i) => (i.didYouMean ? `${i.column} (did you mean ${i.didYouMean}?)` : i.column))
    .join(', ')}`;
}
