import type { UseQueryResult } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';

/** Loading and error states of a query, with a retry. */
export function Status({ query }: { query: UseQueryResult<unknown> }) {
  const { t } = useTranslation();
  if (query.isPending)
    return (
      <p role="status" aria-live="polite">
        {t('common.loading')}
      </p>
    );
  if (query.error)
    return (
      <div role="alert">
        <p>{t('common.error', { message: query.error.message })}</p>
        <button type="button" onClick={() => void query.refetch()}>
          {t('common.retry')}
        </button>
      </div>
    );
  return null;
}
