import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api } from '../api';
import { Status } from '../components/Status';
import type { Flow } from './FlowsCommon';

interface Builtin {
  key: string;
  title: string;
  description: string;
  messages: string[];
  /** The surveys its survey steps name (saved at install when the store has none of that name). */
  surveys?: string[];
}

/**
 * The built-in flows (`GET /v1/flow-templates`) with an Install button each
 * (`POST /v1/flow-templates/{key}/install`): the flow is saved as a draft with its messages (templates
 * the store already has by those names are kept), then its page opens. The shop address the messages'
 * buttons link to is asked once for all.
 */
export function FlowBuiltins() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [shopUrl, setShopUrl] = useState('');
  const list = useQuery({
    queryKey: ['flow-templates'],
    queryFn: () => api<{ data: Builtin[] }>('/v1/flow-templates'),
  });
  const install = useMutation({
    mutationFn: (key: string) =>
      api<{ flow: Flow }>(`/v1/flow-templates/${encodeURIComponent(key)}/install`, {
        method: 'POST',
        body: shopUrl.trim() ? { shopUrl: shopUrl.trim() } : {},
      }),
    onSuccess: async (r) => {
      await client.invalidateQueries({ queryKey: ['flows'] });
      await client.invalidateQueries({ queryKey: ['templates'] });
      navigate(`/flows/${encodeURIComponent(r.flow.name)}`);
    },
  });
  return (
    <section aria-labelledby="builtins-title" data-testid="flow-builtins">
      <h2 id="builtins-title">{t('flows.builtins.title')}</h2>
      <p>{t('flows.builtins.lead')}</p>
      <div className="cfield">
        <label htmlFor="builtins-shop">{t('flows.builtins.shopUrl')}</label>
        <input
          id="builtins-shop"
          type="url"
          placeholder="https://shop.example"
          value={shopUrl}
          onChange={(e) => setShopUrl(e.target.value)}
        />
      </div>
      {install.error ? (
        <p className="field-error" role="alert" data-testid="builtins-error">
          {install.error.message}
        </p>
      ) : null}
      {!list.data ? (
        <Status query={list} />
      ) : (
        <div className="table-wrap" role="region" aria-labelledby="builtins-caption" tabIndex={0}>
          <table className="data">
            <caption id="builtins-caption">{t('flows.builtins.caption')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('flows.builtins.flow')}</th>
                <th scope="col">{t('flows.builtins.what')}</th>
                <th scope="col">{t('flows.builtins.messages')}</th>
                <th scope="col">
                  <span className="sr-only">{t('flows.builtins.install')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((b) => {
                // The API speaks English; the dashboard's languages have their own words for each.
                const title = t(`flows.builtins.items.${b.key}.title`, { defaultValue: b.title });
                return (
                  <tr key={b.key} data-builtin={b.key}>
                    <th scope="row">{title}</th>
                    <td>{t(`flows.builtins.items.${b.key}.description`, { defaultValue: b.description })}</td>
                    <td>
                      {[
                        ...b.messages,
                        ...(b.surveys ?? []).map((name) => t('flows.builtins.survey', { name })),
                      ].join(', ')}
                    </td>
                    <td>
                      <button
                        type="button"
                        disabled={install.isPending}
                        aria-label={t('flows.builtins.installOne', { title })}
                        onClick={() => install.mutate(b.key)}
                      >
                        {t('flows.builtins.install')}
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
