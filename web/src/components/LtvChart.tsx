import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { fmt } from '../format';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export interface LtvChartRow {
  name: string;
  observed: number | null;
  predicted: number | null;
}

/**
 * Observed against predicted LTV per group (ECharts, loaded with this chunk only). The figures are
 * also in a table beside it; `label` says so to screen readers.
 */
export default function LtvChart({
  rows,
  currency,
  lang,
  label,
  observed,
  predicted,
  testId = 'ltv-chart',
}: {
  rows: LtvChartRow[];
  currency: string;
  lang: string;
  label: string;
  observed: string;
  predicted: string;
  /** `data-testid` of the chart (default `ltv-chart`). */
  testId?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const figures = JSON.stringify(rows);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const list = JSON.parse(figures) as LtvChartRow[];
    const money = (v: number) => fmt.money(lang, v, currency);
    chart.setOption({
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => money(v) },
      legend: { data: [observed, predicted] },
      grid: { left: 90, right: 30, top: 40, bottom: 60 },
      xAxis: { type: 'category', data: list.map((r) => r.name), axisLabel: { interval: 0, rotate: 20 } },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => money(v) } },
      series: [
        { name: observed, type: 'bar', data: list.map((r) => r.observed ?? '-') },
        { name: predicted, type: 'bar', data: list.map((r) => r.predicted ?? '-') },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, currency, lang, observed, predicted]);
  return <div ref={el} className="chart" role="img" aria-label={label} data-testid={testId} />;
}
