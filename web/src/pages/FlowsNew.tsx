import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, type Me } from '../api';
import { Status } from '../components/Status';
import { starterFlow, useFlowWrite, type Flow } from './FlowsCommon';
import { FlowBuiltins } from './FlowsBuiltins';
import { FlowEditor } from './FlowsEditor';

/**
 * A new flow (`/flows/new`): the definition as JSON, starting from docs/flows.md's welcome series (sending
 * the store's first template, when it has one), saved with `PUT /v1/flows/{name}` as a draft; then its
 * page. The analyst is told who may create one instead.
 */
export function FlowNewPage() {
  const { t } = useTranslation();
  const write = useFlowWrite();
  const navigate = useNavigate();
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  const templates = useQuery({
    queryKey: ['templates'],
    queryFn: () => api<{ data: { name: string }[] }>('/v1/templates'),
    enabled: write,
  });
  const flows = useQuery({
    queryKey: ['flows'],
    queryFn: () => api<{ data: Flow[] }>('/v1/flows'),
    enabled: write,
  });
  return (
    <section aria-labelledby="flow-new-title" className="campaign-page">
      <h1 id="flow-new-title">{t('flows.newFlow.title')}</h1>
      <p>
        <Link to="/flows">{t('flows.back')}</Link>
      </p>
      {!me.data ? (
        <Status query={me} />
      ) : !write ? (
        <p role="note" data-testid="no-rights">
          {t('flows.noRights')}
        </p>
      ) : !templates.data || !flows.data ? (
        <Status query={templates.data ? flows : templates} />
      ) : (
        <>
          <FlowBuiltins />
          <h2>{t('flows.newFlow.own')}</h2>
          <p>
            {t('flows.newFlow.lead')} <Link to="/templates">{t('flows.newFlow.toTemplates')}</Link>.
          </p>
          <FlowEditor
            initial={starterFlow(templates.data.data[0]?.name ?? 'welcome-1')}
            title={t('flows.newFlow.title')}
            label={t('flows.editor.label')}
            help={t('flows.newFlow.note')}
            save={t('flows.newFlow.save')}
            taken={new Set(flows.data.data.map((x) => x.name))}
            onSaved={(flow) => navigate(`/flows/${encodeURIComponent(flow.name)}`)}
          />
        </>
      )}
    </section>
  );
}
