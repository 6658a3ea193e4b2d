import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export interface LiabilityBar {
  /** The month's label as shown. */
  month: string;
  available: number;
  pending: number;
}

/**
 * Outstanding points by month of expiry, available and pending stacked (ECharts, loaded with this
 * chunk only). The figures are also in a table below it; `label` says so to screen readers.
 */
export default function LoyaltyChart({
  bars,
  lang,
  label,
  names,
}: {
  bars: LiabilityBar[];
  lang: string;
  label: string;
  names: { available: string; pending: string };
}) {
  const el = useRef<HTMLDivElement>(null);
  const figures = JSON.stringify(bars);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const list = JSON.parse(figures) as LiabilityBar[];
    const int = (v: number) => new Intl.NumberFormat(lang).format(v);
    chart.setOption({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => int(v) },
      legend: { top: 8, data: [names.available, names.pending] },
      grid: { left: 80, right: 30, top: 48, bottom: 40 },
      xAxis: { type: 'category', data: list.map((b) => b.month) },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => int(v) } },
      series: [
        {
          name: names.available,
          type: 'bar',
          stack: 'points',
          itemStyle: { color: '#1d4ed8' },
          data: list.map((b) => b.available),
        },
        {
          name: names.pending,
          type: 'bar',
          stack: 'points',
          itemStyle: { color: '#93c5fd' },
          data: list.map((b) => b.pending),
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, lang, names.available, names.pending]);
  return <div ref={el} className="chart" role="img" aria-label={label} data-testid="liability-chart" />;
}
