import { CustomChart, ScatterChart } from 'echarts/charts';
import { GridComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([CustomChart, ScatterChart, GridComponent, MarkLineComponent, TooltipComponent, SVGRenderer]);

export interface IntervalRow {
  /** The variant's label as shown. */
  label: string;
  /** Minor units per recipient. */
  estimate: number;
  low: number;
  high: number;
}

/**
 * Each variant's incremental revenue per recipient: the estimate as a point and its 95 % interval as a
 * bar, against a dashed line at zero (ECharts, loaded with this chunk only). The figures are also in the
 * cards above it; `label` reads them out to screen readers.
 */
export default function CampaignChart({
  rows,
  scale,
  money,
  zero,
  label,
}: {
  rows: IntervalRow[];
  /** 10^digits: minor units per major unit (the axis is in major units). */
  scale: number;
  /** Minor units as money. */
  money: (minor: number) => string;
  zero: string;
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  // The page makes a new formatter each render: redraw only when the figures change.
  const format = useRef(money);
  format.current = money;
  const figures = JSON.stringify(rows);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const list = JSON.parse(figures) as IntervalRow[];
    const major = (x: number) => x / scale;
    const money = (minor: number) => format.current(minor);
    chart.setOption({
      grid: { left: 80, right: 30, top: 30, bottom: 40 },
      tooltip: {
        trigger: 'item',
        formatter: (p: { dataIndex: number }) => {
          const r = list[p.dataIndex];
          return r ? `${r.label}: ${money(r.estimate)} (${money(r.low)} – ${money(r.high)})` : '';
        },
      },
      xAxis: {
        type: 'value',
        axisLabel: { formatter: (v: number) => money(v * scale), hideOverlap: true },
        splitLine: { lineStyle: { color: '#e5e7eb' } },
      },
      yAxis: { type: 'category', data: list.map((r) => r.label), inverse: true },
      series: [
        {
          type: 'custom',
          name: 'interval',
          data: list.map((r, i) => [i, major(r.low), major(r.high)]),
          encode: { y: 0, x: [1, 2] },
          renderItem: (
            _params: unknown,
            api: {
              value: (i: number) => number;
              coord: (v: number[]) => number[];
              size: (v: number[]) => number[];
            },
          ) => {
            const y = api.value(0);
            const a = api.coord([api.value(1), y]);
            const b = api.coord([api.value(2), y]);
            const cap = (api.size([0, 1])[1] ?? 40) * 0.25;
            const style = { stroke: '#1d4ed8', lineWidth: 2 };
            return {
              type: 'group',
              children: [
                { type: 'line', shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style },
                {
                  type: 'line',
                  shape: { x1: a[0], y1: a[1]! - cap, x2: a[0], y2: a[1]! + cap },
                  style,
                },
                {
                  type: 'line',
                  shape: { x1: b[0], y1: b[1]! - cap, x2: b[0], y2: b[1]! + cap },
                  style,
                },
              ],
            };
          },
        },
        {
          type: 'scatter',
          name: 'estimate',
          symbolSize: 12,
          itemStyle: { color: '#1d2330' },
          data: list.map((r, i) => [major(r.estimate), i]),
          markLine: {
            silent: true,
            symbol: 'none',
            lineStyle: { color: '#b91c1c', type: 'dashed' },
            label: { formatter: zero, position: 'start' },
            data: [{ xAxis: 0 }],
          },
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, scale, zero]);
  return (
    <div
      ref={el}
      className="chart interval-chart"
      role="img"
      aria-label={label}
      data-testid="effects-chart"
      style={{ height: `${120 + 60 * rows.length}px` }}
    />
  );
}
