import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, type Me } from '../api';
import { Status } from '../components/Status';
import { starterSurvey, useSurveyWrite, type Survey } from './SurveysCommon';
import { SurveyEditor } from './SurveysEditor';

/**
 * A new survey (`/surveys/new`): the definition as JSON, starting from docs/surveys.md's example (its
 * call tasks going to the signed-in user), saved with `PUT /v1/surveys`; then its page. The analyst is
 * told who may create one instead.
 */
export function SurveyNewPage() {
  const { t } = useTranslation();
  const write = useSurveyWrite();
  const navigate = useNavigate();
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  const surveys = useQuery({
    queryKey: ['surveys'],
    queryFn: () => api<{ data: Survey[] }>('/v1/surveys'),
    enabled: write,
  });
  return (
    <section aria-labelledby="survey-new-title" className="campaign-page">
      <h1 id="survey-new-title">{t('surveys.newSurvey.title')}</h1>
      <p>
        <Link to="/surveys">{t('surveys.back')}</Link>
      </p>
      {!me.data ? (
        <Status query={me} />
      ) : !write ? (
        <p role="note" data-testid="no-rights">
          {t('surveys.noRights')}
        </p>
      ) : !surveys.data ? (
        <Status query={surveys} />
      ) : (
        <>
          <p>{t('surveys.newSurvey.lead')}</p>
          <SurveyEditor
            initial={starterSurvey(me.data.kind === 'session' ? me.data.name : 'someone@shop.test')}
            title={t('surveys.newSurvey.title')}
            label={t('surveys.editor.label')}
            help={t('surveys.newSurvey.note')}
            save={t('surveys.newSurvey.save')}
            taken={new Set(surveys.data.data.map((x) => x.name))}
            onSaved={(survey) => navigate(`/surveys/${encodeURIComponent(survey.name)}`)}
          />
        </>
      )}
    </section>
  );
}
