import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { fmt } from '../format';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export interface WaterfallStep {
  id: string;
  name: string;
  /** A total (drawn from zero) or a change (drawn from the running total). */
  value: number;
  total: boolean;
}

/**
 * A waterfall (ECharts, loaded with this chunk only): the totals from zero, each change floating from
 * the running total — a transparent stacked bar under it — up in green, down in red. The figures are
 * also in a table beside it; `label` says so to screen readers.
 */
export default function WaterfallChart({
  steps,
  currency,
  lang,
  label,
  names,
}: {
  steps: WaterfallStep[];
  currency: string;
  lang: string;
  label: string;
  names: { increase: string; decrease: string; total: string };
}) {
  const el = useRef<HTMLDivElement>(null);
  const figures = JSON.stringify(steps);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const list = JSON.parse(figures) as WaterfallStep[];
    const money = (v: number) => fmt.money(lang, v, currency);
    // Work in minor units (integers) so the running total does not drift.
    const digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
    const scale = 10 ** digits;
    let running = 0;
    const hidden: (number | string)[] = [];
    const up: (number | string)[] = [];
    const down: (number | string)[] = [];
    const total: (number | string)[] = [];
    for (const s of list) {
      const v = Math.round(s.value * scale);
      if (s.total) {
        running = v;
        hidden.push(0);
        up.push('-');
        down.push('-');
        total.push(v / scale);
      } else {
        const low = v >= 0 ? running : running + v;
        hidden.push(low / scale);
        up.push(v >= 0 ? v / scale : '-');
        down.push(v < 0 ? -v / scale : '-');
        total.push('-');
        running += v;
      }
    }
    chart.setOption({
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        formatter: (items: { dataIndex: number }[]) => {
          const s = list[items[0]?.dataIndex ?? 0];
          if (!s) return '';
          const v = s.total
            ? money(s.value)
            : new Intl.NumberFormat(lang, { style: 'currency', currency, signDisplay: 'exceptZero' }).format(
                s.value,
              );
          return `${s.name}: ${v}`;
        },
      },
      legend: { data: [names.total, names.increase, names.decrease] },
      grid: { left: 90, right: 30, top: 40, bottom: 70 },
      xAxis: {
        type: 'category',
        data: list.map((s) => s.name),
        axisLabel: { interval: 0, width: 120, overflow: 'break' },
      },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => money(v) } },
      series: [
        {
          name: 'base',
          type: 'bar',
          stack: 'w',
          silent: true,
          itemStyle: { color: 'transparent' },
          data: hidden,
        },
        { name: names.total, type: 'bar', stack: 'w', itemStyle: { color: '#1d4ed8' }, data: total },
        { name: names.increase, type: 'bar', stack: 'w', itemStyle: { color: '#15803d' }, data: up },
        { name: names.decrease, type: 'bar', stack: 'w', itemStyle: { color: '#b91c1c' }, data: down },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [figures, currency, lang, names.increase, names.decrease, names.total]);
  return <div ref={el} className="chart" role="img" aria-label={label} data-testid="waterfall-chart" />;
}
