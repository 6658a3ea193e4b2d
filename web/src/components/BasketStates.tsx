import type { UseQueryResult } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { Status } from './Status';

/** The empty store's answer (404) says to import orders first. */
export function EmptyStore() {
  const { t } = useTranslation();
  return (
    <div role="note" data-testid="basket-empty">
      <p>{t('basket.empty')}</p>
      <pre>
        <code>retain import orders orders.csv</code>
      </pre>
    </div>
  );
}

const notFound = (e: unknown) => e instanceof ApiError && e.status === 404;

/** Mining results' states: the empty store, the error, or loading (mining takes seconds). */
export function Mining({ query }: { query: UseQueryResult<unknown> }) {
  const { t } = useTranslation();
  if (notFound(query.error)) return <EmptyStore />;
  if (query.isFetching)
    return (
      <p role="status" aria-live="polite">
        {t('basket.mining')}
      </p>
    );
  return <Status query={query} />;
}
