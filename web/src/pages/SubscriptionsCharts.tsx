import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkAreaComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([
  BarChart,
  LineChart,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  TooltipComponent,
  SVGRenderer,
]);

/**
 * The subscription report's two charts (ECharts, loaded with the report tab only): the MRR by month
 * with its movements, and the sBG forecast against the actual survival. Their figures are also in the
 * tables below them; `label` reads them out to screen readers.
 */

/** One month of MRR, in minor units. */
export interface MrrBar {
  /** The month's label as shown. */
  month: string;
  end: number;
  new: number;
  expansion: number;
  reactivated: number;
  contraction: number;
  churned: number;
}

const MOVES = [
  ['new', '#15803d', 1],
  ['expansion', '#65a30d', 1],
  ['reactivated', '#0e7490', 1],
  ['contraction', '#d97706', -1],
  ['churned', '#b91c1c', -1],
] as const;
type Move = (typeof MOVES)[number][0];

/**
 * The MRR at each month's end (a line, above) and the month's movements (stacked bars, below: new,
 * expansion and reactivated up, contraction and churned down), on one month axis.
 */
export function MrrChart({
  months,
  scale,
  money,
  names,
  label,
}: {
  months: MrrBar[];
  /** 10^digits: minor units per major unit (the axes are in major units). */
  scale: number;
  /** Minor units as money. */
  money: (minor: number) => string;
  names: Record<Move | 'end', string>;
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  // The page makes a new formatter each render: redraw only when the figures change.
  const format = useRef(money);
  format.current = money;
  const figures = JSON.stringify({ months, names });
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const { months: list, names: n } = JSON.parse(figures) as {
      months: MrrBar[];
      names: Record<Move | 'end', string>;
    };
    const axisMoney = (major: number) => format.current(Math.round(major * scale));
    const labels = list.map((m) => m.month);
    chart.setOption({
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: (v: number) => axisMoney(v),
      },
      axisPointer: { link: [{ xAxisIndex: 'all' }] },
      legend: { top: 0, data: [n.end, ...MOVES.map(([k]) => n[k])] },
      grid: [
        { left: 90, right: 30, top: 40, height: '38%' },
        { left: 90, right: 30, top: '58%', bottom: 40 },
      ],
      xAxis: [
        { type: 'category', gridIndex: 0, data: labels, axisLabel: { show: false } },
        { type: 'category', gridIndex: 1, data: labels },
      ],
      yAxis: [
        { type: 'value', gridIndex: 0, axisLabel: { formatter: axisMoney } },
        { type: 'value', gridIndex: 1, axisLabel: { formatter: axisMoney } },
      ],
      series: [
        {
          name: n.end,
          type: 'line',
          xAxisIndex: 0,
          yAxisIndex: 0,
          itemStyle: { color: '#1d4ed8' },
          data: list.map((m) => m.end / scale),
        },
        ...MOVES.map(([k, color, sign]) => ({
          name: n[k],
          type: 'bar',
          stack: 'moves',
          xAxisIndex: 1,
          yAxisIndex: 1,
          itemStyle: { color },
          data: list.map((m) => (sign * m[k]) / scale),
        })),
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, scale]);
  return (
    <div
      ref={el}
      className="chart"
      style={{ height: '440px' }}
      role="img"
      aria-label={label}
      data-testid="mrr-chart"
    />
  );
}

export interface SurvivalPoint {
  /** Months since the start. */
  month: number;
  actual: number;
  forecast: number;
}

/**
 * The share still subscribed by month since the start: actual against the sBG forecast, the months
 * the model was fitted on shaded.
 */
export function SurvivalChart({
  points,
  train,
  pct,
  names,
  label,
}: {
  points: SurvivalPoint[];
  train: number;
  /** A 0..1 share as a percentage. */
  pct: (x: number) => string;
  names: { actual: string; forecast: string; fitted: string; month: (k: number) => string };
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const format = useRef(pct);
  format.current = pct;
  const monthName = useRef(names.month);
  monthName.current = names.month;
  const figures = JSON.stringify(points);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const list = JSON.parse(figures) as SurvivalPoint[];
    const share = (x: number) => format.current(x);
    const labels = list.map((p) => monthName.current(p.month));
    const lastFitted = list.filter((p) => p.month <= train).at(-1);
    chart.setOption({
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => share(v) },
      legend: { top: 0, data: [names.actual, names.forecast] },
      grid: { left: 70, right: 30, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: labels, boundaryGap: false },
      yAxis: { type: 'value', min: 0, axisLabel: { formatter: share } },
      series: [
        {
          name: names.actual,
          type: 'line',
          itemStyle: { color: '#1d4ed8' },
          data: list.map((p) => p.actual),
          markArea: lastFitted
            ? {
                silent: true,
                itemStyle: { color: 'rgba(107, 114, 128, 0.12)' },
                label: { color: '#374151', position: 'insideTop' },
                data: [
                  [{ name: names.fitted, xAxis: labels[0] }, { xAxis: monthName.current(lastFitted.month) }],
                ],
              }
            : undefined,
        },
        {
          name: names.forecast,
          type: 'line',
          itemStyle: { color: '#1d2330' },
          lineStyle: { type: 'dashed' },
          showSymbol: false,
          data: list.map((p) => p.forecast),
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, train, names.actual, names.forecast, names.fitted]);
  return <div ref={el} className="chart" role="img" aria-label={label} data-testid="survival-chart" />;
}
