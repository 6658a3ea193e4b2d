import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import { campaignFormat, useStoreInfo } from './CampaignCommon';
import { SurveyStatusBadge, useSurveyWrite, type Survey } from './SurveysCommon';

/**
 * The surveys (docs/surveys.md) by name (`GET /v1/surveys`): kind, status, when last changed; "New
 * survey" for the roles that may save one (admin, marketer).
 */
export function SurveysPage() {
  const { t, i18n } = useTranslation();
  const write = useSurveyWrite();
  const store = useStoreInfo();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const list = useQuery({ queryKey: ['surveys'], queryFn: () => api<{ data: Survey[] }>('/v1/surveys') });
  return (
    <section aria-labelledby="surveys-title" className="campaign-page">
      <h1 id="surveys-title">{t('surveys.title')}</h1>
      <p className="muted">{t('surveys.intro')}</p>
      {write ? (
        <p className="toolbar">
          <Link className="button" to="/surveys/new">
            {t('surveys.new')}
          </Link>
        </p>
      ) : null}
      {list.data ? (
        list.data.data.length === 0 ? (
          <p data-testid="no-surveys">{t('surveys.empty')}</p>
        ) : (
          <div className="table-wrap" role="region" aria-labelledby="surveys-table-caption" tabIndex={0}>
            <table className="data wide" data-testid="surveys">
              <caption id="surveys-table-caption" className="sr-only">
                {t('surveys.table')}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('surveys.col.name')}</th>
                  <th scope="col">{t('surveys.col.kind')}</th>
                  <th scope="col">{t('surveys.col.status')}</th>
                  <th scope="col">{t('surveys.col.updated')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((x) => (
                  <tr key={x.name} data-survey={x.name}>
                    <th scope="row">
                      <Link to={`/surveys/${encodeURIComponent(x.name)}`}>{x.name}</Link>
                    </th>
                    <td>{t(`surveys.kind.${x.kind}`)}</td>
                    <td>
                      <SurveyStatusBadge status={x.status} />
                    </td>
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
