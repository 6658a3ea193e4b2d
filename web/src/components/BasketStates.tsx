import { EmptyStore } from './EmptyStore';
import type { UseQueryResult } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { Status } from './Status';

const notFound = (e: unknown) => e instanceof ApiError && e.status === 404;

/** Mining results' states: the empty store, the error, or loading (mining takes seconds). */
export function Mining({ query }: { query: UseQueryResult<unknown> }) {
  const { t } = useTranslation();
  if (notFound(query.error)) return <EmptyStore message={t('basket.empty')} testId="basket-empty" />;
  if (query.isFetching)
    return (
      <p role="status" aria-live="polite">
        {t('basket.mining')}
      </p>
    );
  return <Status query={query} />;
}
