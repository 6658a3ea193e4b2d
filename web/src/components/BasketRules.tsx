import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { fmt } from '../format';
import { Mining } from './BasketStates';

/** `GET /v1/basket/rules` (`retain basket rules --json` on the stored orders). */
export interface RulesAnswer {
  rules: number;
  transactions: number;
  items: number;
  itemsets: number;
  top: {
    antecedent: string[];
    consequent: string[];
    support: number;
    supportCount: number;
    confidence: number;
    lift: number;
  }[];
  titles?: Record<string, string>;
}

interface Thresholds {
  minSupport: string;
  minConfidence: string;
  minLift: string;
  top: string;
}

/** The query of the rules route for the thresholds (an empty minimum lift is left out). */
export function rulesPath(t: Thresholds): string {
  const q = new URLSearchParams({ minSupport: t.minSupport, minConfidence: t.minConfidence, top: t.top });
  if (t.minLift.trim() !== '') q.set('minLift', t.minLift);
  return `/v1/basket/rules?${q.toString()}`;
}

/**
 * The rule explorer: thresholds (support, confidence, lift, how many of the strongest) sent to the
 * mining route when asked, and a product filter (name or SKU) over the rules it answered.
 */
export function BasketRules() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const [form, setForm] = useState<Thresholds>({
    minSupport: '0.01',
    minConfidence: '0.5',
    minLift: '1',
    top: '100',
  });
  const [asked, setAsked] = useState<Thresholds | null>(null);
  const [filter, setFilter] = useState('');
  const rules = useQuery({
    queryKey: ['basket-rules', asked],
    queryFn: () => api<RulesAnswer>(rulesPath(asked!)),
    enabled: asked !== null,
    retry: false,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAsked({ ...form });
  };
  const field = (key: keyof Thresholds, label: string, step: string) => (
    <label>
      {label}{' '}
      <input
        type="number"
        min="0"
        step={step}
        value={form[key]}
        onChange={(e) => setForm({ ...form, [key]: e.target.value })}
        style={{ width: '6rem' }}
      />
    </label>
  );
  const data = rules.data;
  const title = (sku: string) => data?.titles?.[sku] ?? sku;
  const needle = filter.trim().toLowerCase();
  const shown = (data?.top ?? []).filter(
    (r) =>
      needle === '' ||
      [...r.antecedent, ...r.consequent].some(
        (sku) => sku.toLowerCase().includes(needle) || title(sku).toLowerCase().includes(needle),
      ),
  );
  const names = (skus: string[]) =>
    skus.map((sku) => (
      <div key={sku}>
        {title(sku)} <code>{sku}</code>
      </div>
    ));
  return (
    <>
      <form className="builder" onSubmit={submit} aria-label={t('basket.rulesTitle')}>
        <div className="rule-row">
          {field('minSupport', t('basket.minSupport'), '0.001')}
          {field('minConfidence', t('basket.minConfidence'), '0.05')}
          {field('minLift', t('basket.minLift'), '0.1')}
          {field('top', t('basket.top'), '10')}
          <button type="submit">{t('basket.mine')}</button>
        </div>
        <label>
          {t('basket.filter')}{' '}
          <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
      </form>
      {data && !rules.isFetching ? (
        <div className="preview">
          <p data-testid="rules-note">
            {t('basket.rulesNote', {
              rules: fmt.int(lang, data.rules),
              itemsets: fmt.int(lang, data.itemsets),
              transactions: fmt.int(lang, data.transactions),
              top: fmt.int(lang, data.top.length),
              shown: fmt.int(lang, shown.length),
            })}
          </p>
          {shown.length === 0 ? (
            <p>{t('basket.noRules')}</p>
          ) : (
            <table data-testid="rules">
              <caption className="sr-only">{t('basket.rulesTitle')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('basket.if')}</th>
                  <th scope="col">{t('basket.then')}</th>
                  <th scope="col">{t('basket.support')}</th>
                  <th scope="col">{t('basket.orders')}</th>
                  <th scope="col">{t('basket.confidence')}</th>
                  <th scope="col">{t('basket.lift')}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={`${r.antecedent.join('+')}>${r.consequent.join('+')}`}>
                    <th scope="row">{names(r.antecedent)}</th>
                    <td>{names(r.consequent)}</td>
                    <td>{fmt.pct(lang, r.support)}</td>
                    <td>{fmt.int(lang, r.supportCount)}</td>
                    <td>{fmt.pct(lang, r.confidence)}</td>
                    <td>{fmt.dec(lang, r.lift)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ) : (
        asked !== null && <Mining query={rules} />
      )}
    </>
  );
}
