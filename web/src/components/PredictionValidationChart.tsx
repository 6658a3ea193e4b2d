import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { fmt } from '../format';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export interface FrequencyBucket {
  frequency: string;
  customers: number;
  meanActual: number;
  meanPredicted: number;
}

/**
 * Actual vs predicted mean holdout purchases per customer by calibration frequency (ECharts, loaded
 * with this chunk only). The page shows the same figures as a table: the chart's text alternative.
 */
export default function PredictionValidationChart({
  buckets,
  lang,
}: {
  buckets: FrequencyBucket[];
  lang: string;
}) {
  const { t } = useTranslation();
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const chart = echarts.init(el.current, undefined, { renderer: 'svg' });
    const rows = buckets.filter((b) => b.customers > 0);
    chart.setOption({
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v: number) => fmt.dec(lang, v, 3),
      },
      legend: { top: 0, data: [t('predictions.meanActual'), t('predictions.meanPredicted')] },
      grid: { top: 40, left: 60, right: 30, bottom: 60 },
      xAxis: {
        type: 'category',
        name: t('predictions.frequency'),
        nameLocation: 'middle',
        nameGap: 30,
        data: rows.map((b) => b.frequency),
      },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => fmt.dec(lang, v, 1) } },
      series: [
        { name: t('predictions.meanActual'), type: 'bar', data: rows.map((b) => b.meanActual) },
        { name: t('predictions.meanPredicted'), type: 'bar', data: rows.map((b) => b.meanPredicted) },
      ],
    });
    const resize = () => chart.resize();
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      chart.dispose();
    };
  }, [buckets, lang, t]);
  return (
    <div
      ref={el}
      className="chart"
      role="img"
      aria-label={t('predictions.chartValidation')}
      data-testid="validation-chart"
    />
  );
}
