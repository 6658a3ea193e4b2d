import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import { campaignFormat, useStoreInfo } from './CampaignCommon';
import { FlowStatusBadge, useFlowWrite, type Flow } from './FlowsCommon';

/**
 * The automated flows (docs/flows.md) by name (`GET /v1/flows`): status, version, runs in progress, in
 * the holdout, at the goal and completed, when last changed; "New flow" for the roles that may save one
 * (admin, marketer).
 */
export function FlowsPage() {
  const { t, i18n } = useTranslation();
  const write = useFlowWrite();
  const store = useStoreInfo();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const list = useQuery({ queryKey: ['flows'], queryFn: () => api<{ data: Flow[] }>('/v1/flows') });
  return (
    <section aria-labelledby="flows-title" className="campaign-page">
      <h1 id="flows-title">{t('flows.title')}</h1>
      <p className="muted">{t('flows.intro')}</p>
      {write ? (
        <p className="toolbar">
          <Link className="button" to="/flows/new">
            {t('flows.new')}
          </Link>
        </p>
      ) : null}
      {list.data ? (
        list.data.data.length === 0 ? (
          <p data-testid="no-flows">{t('flows.empty')}</p>
        ) : (
          <div className="table-wrap" role="region" aria-labelledby="flows-table-caption" tabIndex={0}>
            <table className="data wide" data-testid="flows">
              <caption id="flows-table-caption" className="sr-only">
                {t('flows.table')}
              </caption>
              <thead>
                <tr>
                  <th scope="col" rowSpan={2}>
                    {t('flows.col.name')}
                  </th>
                  <th scope="col" rowSpan={2}>
                    {t('flows.col.status')}
                  </th>
                  <th scope="col" rowSpan={2}>
                    {t('flows.col.version')}
                  </th>
                  <th scope="colgroup" colSpan={4}>
                    {t('flows.runsGroup')}
                  </th>
                  <th scope="col" rowSpan={2}>
                    {t('flows.col.updated')}
                  </th>
                </tr>
                <tr>
                  <th scope="col">{t('flows.col.active')}</th>
                  <th scope="col">{t('flows.col.holdout')}</th>
                  <th scope="col">{t('flows.col.goal')}</th>
                  <th scope="col">{t('flows.col.completed')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((x) => (
                  <tr key={x.name} data-flow={x.name}>
                    <th scope="row">
                      <Link to={`/flows/${encodeURIComponent(x.name)}`}>{x.name}</Link>
                    </th>
                    <td>
                      <FlowStatusBadge status={x.status} />
                    </td>
                    <td className="num">{f.int(x.version)}</td>
                    <td className="num">{f.int(x.runs.active)}</td>
                    <td className="num">{f.int(x.runs.holdout)}</td>
                    <td className="num">{f.int(x.runs.goal)}</td>
                    <td className="num">{f.int(x.runs.completed)}</td>
                    <td>{f.when(x.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : (
        <Status query={list} />
      )}
    </section>
  );
}
