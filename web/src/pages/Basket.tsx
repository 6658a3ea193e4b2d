import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { BasketRules } from '../components/BasketRules';
import { Mining } from '../components/BasketStates';
import { Status } from '../components/Status';
import { fmt } from '../format';

interface ProductMatch {
  sku: string;
  title: string | null;
  orders: number;
}
interface FbtAnswer {
  transactions: number;
  products: number;
  fbt: {
    sku: string;
    title: string;
    orders: number;
    together: { sku: string; title: string; orders: number; confidence: number; lift: number }[];
  }[];
}
interface BundlesAnswer {
  transactions: number;
  bundles: {
    skus: string[];
    titles: string[];
    orders: number;
    support: number;
    lift: number;
    margin: number | null;
    suggestedDiscount: number | null;
  }[];
}

/**
 * Basket analysis on the stored orders, mined when asked (the basket routes mine on each call, on a
 * worker thread): a product's frequently-bought-together companions, bundles, and association rules
 * with thresholds and a product filter — products by name beside their SKU.
 */
export function BasketPage() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  useEffect(() => {
    const id = setTimeout(() => setQ(text.trim()), 300);
    return () => clearTimeout(id);
  }, [text]);
  const [sku, setSku] = useState<string | null>(null);
  const [bundlesAsked, setBundlesAsked] = useState(false);

  const found = useQuery({
    queryKey: ['basket-products', q],
    queryFn: () =>
      api<{ products: ProductMatch[] }>(`/v1/basket/products?q=${encodeURIComponent(q)}&limit=10`),
    enabled: q.length >= 2,
  });
  const fbt = useQuery({
    queryKey: ['basket-fbt', sku],
    queryFn: () => api<FbtAnswer>(`/v1/basket/fbt?sku=${encodeURIComponent(sku!)}&n=10`),
    enabled: sku !== null,
    retry: false,
  });
  const bundles = useQuery({
    queryKey: ['basket-bundles'],
    queryFn: () => api<BundlesAnswer>('/v1/basket/bundles'),
    enabled: bundlesAsked,
    retry: false,
  });
  const pct = (x: number) => fmt.pct(lang, x);
  const item = fbt.data?.fbt[0];

  return (
    <section aria-labelledby="basket-title">
      <h1 id="basket-title">{t('basket.title')}</h1>
      <p className="muted">{t('basket.intro')}</p>

      <h2>{t('basket.fbtTitle')}</h2>
      <div className="builder">
        <label>
          {t('basket.search')} <input type="search" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        {q.length < 2 ? (
          <p className="muted">{t('basket.searchHint')}</p>
        ) : found.data ? (
          found.data.products.length === 0 ? (
            <p>{t('basket.noMatch', { q })}</p>
          ) : (
            <ul data-testid="product-matches">
              {found.data.products.map((p) => (
                <li key={p.sku}>
                  <button
                    type="button"
                    aria-pressed={sku === p.sku}
                    aria-label={t('basket.pick', { name: `${p.title ?? p.sku} (${p.sku})` })}
                    onClick={() => setSku(p.sku)}
                  >
                    {p.title ?? p.sku}
                  </button>{' '}
                  <code>{p.sku}</code>
                </li>
              ))}
            </ul>
          )
        ) : (
          <Status query={found} />
        )}
      </div>
      {sku !== null &&
        (fbt.data ? (
          <div className="preview">
            {!item || item.together.length === 0 ? (
              <p>{t('basket.noCompanions')}</p>
            ) : (
              <table data-testid="fbt">
                <caption>
                  {t('basket.companionsOf', {
                    name: item.title,
                    sku: item.sku,
                    orders: fmt.int(lang, item.orders),
                  })}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">{t('basket.product')}</th>
                    <th scope="col">{t('basket.sku')}</th>
                    <th scope="col">{t('basket.together')}</th>
                    <th scope="col">{t('basket.confidence')}</th>
                    <th scope="col">{t('basket.lift')}</th>
                  </tr>
                </thead>
                <tbody>
                  {item.together.map((c) => (
                    <tr key={c.sku} data-sku={c.sku}>
                      <th scope="row">{c.title}</th>
                      <td>{c.sku}</td>
                      <td>{fmt.int(lang, c.orders)}</td>
                      <td>{pct(c.confidence)}</td>
                      <td>{fmt.dec(lang, c.lift)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </div>
        ) : (
          <Mining query={fbt} />
        ))}

      <h2>{t('basket.bundlesTitle')}</h2>
      {!bundlesAsked ? (
        <button type="button" onClick={() => setBundlesAsked(true)}>
          {t('basket.findBundles')}
        </button>
      ) : bundles.data ? (
        <div className="preview">
          <p data-testid="bundles-note">
            {t('basket.bundlesNote', {
              count: bundles.data.bundles.length,
              transactions: fmt.int(lang, bundles.data.transactions),
            })}
          </p>
          {bundles.data.bundles.length === 0 ? (
            <p>{t('basket.noBundles')}</p>
          ) : (
            <table data-testid="bundles">
              <caption className="sr-only">{t('basket.bundlesTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('basket.products')}</th>
                  <th scope="col">{t('basket.orders')}</th>
                  <th scope="col">{t('basket.support')}</th>
                  <th scope="col">{t('basket.lift')}</th>
                  <th scope="col">{t('basket.margin')}</th>
                  <th scope="col">{t('basket.discount')}</th>
                </tr>
              </thead>
              <tbody>
                {bundles.data.bundles.map((b) => (
                  <tr key={b.skus.join('+')} data-bundle={b.skus.join('+')}>
                    <th scope="row">
                      {b.titles.map((title, i) => (
                        <div key={b.skus[i]}>
                          {title} <code>{b.skus[i]}</code>
                        </div>
                      ))}
                    </th>
                    <td>{fmt.int(lang, b.orders)}</td>
                    <td>{pct(b.support)}</td>
                    <td>{fmt.dec(lang, b.lift)}</td>
                    <td>{b.margin === null ? '—' : pct(b.margin)}</td>
                    <td>{b.suggestedDiscount === null ? '—' : pct(b.suggestedDiscount)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ) : (
        <Mining query={bundles} />
      )}

      <h2>{t('basket.rulesTitle')}</h2>
      <BasketRules />
    </section>
  );
}
