// Plain-text tables for the terminal: columns sized to their content, numbers
// right-aligned, nothing that depends on the terminal's width.

export interface Column<T> {
  title: string;
  get(row: T): string | number;
  align?: 'left' | 'right';
}

export function formatTable<T>(rows: readonly T[], cols: readonly Column<T>[]): string {
  const cells = rows.map((r) => cols.map((c) => fmt(c.get(r))));
  const widths = cols.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i].length)));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => ((cols[i].align ?? (i === 0 ? 'left' : 'right')) === 'left' ? v.padEnd(widths[i]) : v.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cols.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

function fmt(v: string | number): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(Math.abs(v) >= 100 ? 1 : 3);
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
