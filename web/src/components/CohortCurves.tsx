import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkPointComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { fmt } from '../format';

echarts.use([LineChart, GridComponent, LegendComponent, MarkPointComponent, TooltipComponent, SVGRenderer]);

export interface CohortCurve {
  name: string;
  /** Cumulative value per customer at k = 0, 1, … (major units). */
  values: number[];
  /** The k at which the cohort's CAC was paid back, or null. */
  payback: number | null;
}

/**
 * Cumulative value per customer of each cohort over the periods since acquisition (ECharts, loaded
 * with this chunk only), with a ◆ where the cohort paid back its CAC. The figures are also in a table
 * beside it; `label` says so to screen readers.
 */
export default function CohortCurves({
  series,
  ks,
  currency,
  lang,
  label,
  paidBack,
}: {
  series: CohortCurve[];
  ks: string[];
  currency: string;
  lang: string;
  label: string;
  paidBack: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  // The page builds the series on each render: redraw only when the figures change.
  const figures = JSON.stringify({ series, ks });
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const { series: lines, ks: axis } = JSON.parse(figures) as { series: CohortCurve[]; ks: string[] };
    const money = (v: number) => fmt.money(lang, v, currency);
    chart.setOption({
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => money(v) },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 90, right: 30, top: 40, bottom: 40 },
      xAxis: { type: 'category', data: axis, boundaryGap: false },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => money(v) } },
      series: lines.map((s) => ({
        name: s.name,
        type: 'line',
        showSymbol: false,
        data: s.values,
        markPoint:
          s.payback === null || s.payback >= s.values.length
            ? undefined
            : {
                symbol: 'diamond',
                symbolSize: 14,
                label: { show: false },
                data: [{ name: paidBack, coord: [s.payback, s.values[s.payback]] }],
              },
      })),
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, currency, lang, paidBack]);
  return <div ref={el} className="chart" role="img" aria-label={label} data-testid="cohort-curves" />;
}
