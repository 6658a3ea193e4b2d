/**
 * A small trend line (inline SVG, no chart library: the Overview's figures do not wait for ECharts).
 * Missing values leave gaps. The line is decorative; `label` says what it shows in words.
 */
export function Sparkline({ values, label }: { values: (number | null)[]; label: string }) {
  const w = 120;
  const h = 28;
  const known = values.filter((v): v is number => v !== null);
  if (known.length < 2) return null;
  const min = Math.min(...known);
  const max = Math.max(...known);
  const x = (i: number) => (values.length === 1 ? w / 2 : (i * (w - 4)) / (values.length - 1) + 2);
  const y = (v: number) => (max === min ? h / 2 : h - 3 - ((v - min) * (h - 6)) / (max - min));
  const runs: string[] = [];
  let run = '';
  values.forEach((v, i) => {
    if (v === null) {
      if (run) runs.push(run);
      run = '';
    } else run += `${run ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  });
  if (run) runs.push(run);
  return (
    <svg className="sparkline" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={label}>
      {runs.map((d) => (
        <path key={d} d={d} fill="none" stroke="#1d4ed8" strokeWidth="1.5" />
      ))}
    </svg>
  );
}
