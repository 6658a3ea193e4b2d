import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { fmt } from '../format';
import type { RfmReport } from '../pages/Overview';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

/** Customers and revenue share per RFM segment (ECharts, loaded with this chunk only). */
export default function RfmChart({ report, lang }: { report: RfmReport; lang: string }) {
  const { t } = useTranslation();
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const rows = report.segments.filter((r) => r.customers > 0);
    chart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { data: [t('overview.rfmCustomers'), t('overview.rfmRevenueShare')] },
      grid: { left: 60, right: 60, bottom: 80 },
      xAxis: { type: 'category', data: rows.map((r) => r.segment), axisLabel: { rotate: 30 } },
      yAxis: [
        { type: 'value', name: t('overview.rfmCustomers') },
        {
          type: 'value',
          name: t('overview.rfmRevenueShare'),
          axisLabel: { formatter: (v: number) => fmt.pct(lang, v) },
        },
      ],
      series: [
        { name: t('overview.rfmCustomers'), type: 'bar', data: rows.map((r) => r.customers) },
        {
          name: t('overview.rfmRevenueShare'),
          type: 'bar',
          yAxisIndex: 1,
          data: rows.map((r) => r.revenueShare ?? 0),
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [report, lang, t]);
  return <div ref={el} className="chart" role="img" aria-label={t('overview.rfmTitle')} />;
}
