import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { fmt } from '../format';
import { binLabel, type Bin } from '../pages/Predictions';

echarts.use([BarChart, GridComponent, TooltipComponent, SVGRenderer]);

/** Customers per predicted-CLV bin (ECharts, loaded with this chunk only); the page has the table. */
export default function ClvHistogramChart({
  bins,
  currency,
  lang,
}: {
  bins: Bin[];
  currency: string;
  lang: string;
}) {
  const { t } = useTranslation();
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    chart.setOption({
      tooltip: { trigger: 'axis' },
      grid: { left: 60, right: 30, bottom: 90 },
      xAxis: {
        type: 'category',
        data: bins.map((b) => binLabel(t, lang, currency, b)),
        axisLabel: { rotate: 35 },
      },
      yAxis: { type: 'value', name: t('predictions.binCustomers') },
      series: [
        {
          name: t('predictions.binCustomers'),
          type: 'bar',
          barCategoryGap: '5%',
          data: bins.map((b) => b.customers),
        },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [bins, currency, lang, t]);
  const first = bins[0];
  const last = bins[bins.length - 1];
  return (
    <div
      ref={el}
      className="chart"
      role="img"
      data-testid="clv-chart"
      aria-label={
        first && last
          ? t('predictions.chartClv', {
              bins: bins.length,
              from: fmt.money(lang, first.from, currency),
              to: last.to === null ? binLabel(t, lang, currency, last) : fmt.money(lang, last.to, currency),
            })
          : t('predictions.distribution')
      }
    />
  );
}
