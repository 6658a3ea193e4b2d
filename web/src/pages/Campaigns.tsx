import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import {
  campaignFormat,
  StatusBadge,
  useCampaignWrite,
  useScheduleText,
  useStoreInfo,
  type Campaign,
} from './CampaignCommon';

/**
 * The campaigns (docs/campaigns.md), newest first (`GET /v1/campaigns`): status, audience, variants,
 * holdout, send time, launched and done, messages not yet delivered; "New campaign" for the roles that
 * may create one (admin, marketer).
 */
export function CampaignsPage() {
  const { t, i18n } = useTranslation();
  const write = useCampaignWrite();
  const store = useStoreInfo();
  const f = campaignFormat(i18n.language, store.currency, store.timeZone);
  const scheduleText = useScheduleText();
  const list = useQuery({
    queryKey: ['campaigns'],
    queryFn: () => api<{ data: Campaign[] }>('/v1/campaigns'),
  });
  return (
    <section aria-labelledby="campaigns-title" className="campaign-page">
      <h1 id="campaigns-title">{t('campaigns.title')}</h1>
      <p className="muted">{t('campaigns.intro')}</p>
      {write ? (
        <p className="toolbar">
          <Link className="button" to="/campaigns/new">
            {t('campaigns.new')}
          </Link>
        </p>
      ) : null}
      {list.data ? (
        list.data.data.length === 0 ? (
          <p data-testid="no-campaigns">{t('campaigns.empty')}</p>
        ) : (
          <div className="table-wrap" role="region" aria-labelledby="campaigns-table-caption" tabIndex={0}>
            <table className="data wide" data-testid="campaigns">
              <caption id="campaigns-table-caption" className="sr-only">
                {t('campaigns.table')}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('campaigns.col.name')}</th>
                  <th scope="col">{t('campaigns.col.status')}</th>
                  <th scope="col">{t('campaigns.col.audience')}</th>
                  <th scope="col">{t('campaigns.col.variants')}</th>
                  <th scope="col">{t('campaigns.col.holdout')}</th>
                  <th scope="col">{t('campaigns.col.sendTime')}</th>
                  <th scope="col">{t('campaigns.col.launched')}</th>
                  <th scope="col">{t('campaigns.col.done')}</th>
                  <th scope="col">{t('campaigns.col.pending')}</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((c) => (
                  <tr key={c.name} data-campaign={c.name}>
                    <th scope="row">
                      <Link to={`/campaigns/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                    </th>
                    <td>
                      <StatusBadge status={c.status} />
                    </td>
                    <td>{c.segment ?? t('campaigns.ruleAudience')}</td>
                    <td>
                      {c.variants.map((v) => (
                        <div key={v.key}>
                          {t('campaigns.variantLine', {
                            key: v.key,
                            template: v.template,
                            share: f.share(v.share),
                          })}
                          {v.offer ? ` · ${t('campaigns.withOffer')}` : ''}
                        </div>
                      ))}
                    </td>
                    <td className="num">{f.share(c.holdoutShare)}</td>
                    <td>
                      {scheduleText(c.schedule, f)}
                      {c.sendAt && c.status === 'scheduled'
                        ? ` · ${t('campaigns.firstSend', { when: f.when(c.sendAt) })}`
                        : ''}
                    </td>
                    <td>{c.launchedAt ? f.when(c.launchedAt) : '—'}</td>
                    <td>{c.doneAt ? f.when(c.doneAt) : '—'}</td>
                    <td className="num">{f.int(c.pending)}</td>
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
