import { LineChart } from 'echarts/charts';
import { GridComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

echarts.use([LineChart, GridComponent, MarkLineComponent, TooltipComponent, SVGRenderer]);

export interface MonthPoint {
  /** The month's label as shown. */
  month: string;
  score: number;
  answered: number;
}

/**
 * A survey's score by month (NPS −100…100 with a dashed line at 0, or CSAT 0…100 %) as a line (ECharts,
 * loaded with this chunk only). The figures are also in a table beside it; `label` reads them out to
 * screen readers.
 */
export default function SurveyChart({
  points,
  kind,
  format,
  label,
}: {
  points: MonthPoint[];
  kind: 'nps' | 'csat';
  /** A score as the page shows it (+45, 80 %). */
  format: (score: number) => string;
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  // The page makes a new formatter each render: redraw only when the figures change.
  const fmt = useRef(format);
  fmt.current = format;
  const figures = JSON.stringify(points);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const list = JSON.parse(figures) as MonthPoint[];
    const show = (v: number) => fmt.current(v);
    chart.setOption({
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v: number) => show(v),
      },
      grid: { left: 70, right: 30, top: 30, bottom: 40 },
      xAxis: { type: 'category', data: list.map((p) => p.month), boundaryGap: list.length < 2 },
      yAxis: {
        type: 'value',
        min: kind === 'nps' ? -100 : 0,
        max: 100,
        axisLabel: { formatter: (v: number) => show(v) },
        splitLine: { lineStyle: { color: '#e5e7eb' } },
      },
      series: [
        {
          type: 'line',
          name: kind.toUpperCase(),
          data: list.map((p) => p.score),
          symbolSize: 8,
          itemStyle: { color: '#1d4ed8' },
          lineStyle: { width: 2 },
          markLine:
            kind === 'nps'
              ? {
                  silent: true,
                  symbol: 'none',
                  label: { show: false },
                  lineStyle: { color: '#6b7280', type: 'dashed' },
                  data: [{ yAxis: 0 }],
                }
              : undefined,
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, kind]);
  return <div ref={el} className="chart" role="img" aria-label={label} data-testid="survey-chart" />;
}
