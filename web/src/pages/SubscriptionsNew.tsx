import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ApiError } from '../api';
import { Status } from '../components/Status';
import { CampaignField, errorsByPath, placeErrors } from './CampaignCommon';
import { usePlans, useSubscriptionRights, type SubscriptionDetail } from './SubscriptionsCommon';

/** The fields of the form, as the API names them in a refusal. */
const FIELDS = ['customer', 'plan', 'sku', 'quantity', 'firstDelivery'];

/**
 * A new subscription (`/subscriptions/new`, `?customer=` from a customer's page): the customer's id, a
 * plan (the active ones), the product (the plan's products, or any sku when it lists none), the
 * quantity and the first delivery's local date (empty: one interval from today), posted with
 * `POST /v1/subscriptions`; then its page. A refusal shows beside the field it names (a 409, an
 * archived plan, on top). The analyst is told who may subscribe a customer instead.
 */
export function SubscriptionNewPage() {
  const { t } = useTranslation();
  const rights = useSubscriptionRights();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [params] = useSearchParams();
  const plans = usePlans();
  const [customer, setCustomer] = useState(params.get('customer') ?? '');
  const [plan, setPlan] = useState('');
  const [sku, setSku] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [first, setFirst] = useState('');
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<SubscriptionDetail>('/v1/subscriptions', { method: 'POST', body }),
    onSuccess: async (x) => {
      await queries.invalidateQueries({ queryKey: ['subscriptions'] });
      await queries.invalidateQueries({ queryKey: ['subscription-plans'] });
      navigate(`/subscriptions/${encodeURIComponent(x.id)}`);
    },
  });
  const active = (plans.data?.data ?? []).filter((p) => p.status === 'active');
  const chosen = active.find((p) => p.name === (plan || active[0]?.name));
  const products = chosen?.definition.products ?? [];
  const sellsSku = products.length ? (products.includes(sku) ? sku : (products[0] ?? '')) : sku;
  const conflict = create.error instanceof ApiError && create.error.status === 409;
  const placed = conflict ? new Map<string, string>() : placeErrors(errorsByPath(create.error), FIELDS);
  // A 409 (an archived plan), or a refusal naming no field of the form: on top.
  const shown = !create.error
    ? null
    : conflict || placed.size === 0
      ? create.error.message
      : (placed.get('') ?? null);
  return (
    <section aria-labelledby="subscription-new-title" className="campaign-page">
      <h1 id="subscription-new-title">{t('subscriptions.newForm.title')}</h1>
      <p>
        <Link to="/subscriptions">{t('subscriptions.back')}</Link>
      </p>
      {!rights.known ? null : !rights.write ? (
        <p role="note" data-testid="no-rights">
          {t('subscriptions.noRights')}
        </p>
      ) : !plans.data ? (
        <Status query={plans} />
      ) : active.length === 0 ? (
        <p data-testid="no-plans">
          {t('subscriptions.newForm.noPlans')}{' '}
          <Link to="/subscriptions/plans">{t('subscriptions.tabs.plans')}</Link>
        </p>
      ) : (
        <form
          className="builder"
          aria-labelledby="subscription-new-title"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            const q = quantity.trim();
            create.mutate({
              customer: customer.trim(),
              plan: chosen?.name ?? '',
              sku: sellsSku.trim(),
              quantity: /^\d+$/.test(q) ? Number(q) : q,
              ...(first ? { firstDelivery: first } : {}),
            });
          }}
        >
          {shown ? (
            <p role="alert" className="field-error" data-testid="create-error">
              {shown}
            </p>
          ) : null}
          <div className="field-row">
            <CampaignField
              path="customer"
              label={t('subscriptions.newForm.customer')}
              help={t('subscriptions.newForm.customerHelp')}
              error={placed.get('customer')}
            >
              {(aria) => (
                <input
                  {...aria}
                  autoComplete="off"
                  value={customer}
                  onChange={(e) => setCustomer(e.target.value)}
                />
              )}
            </CampaignField>
            <CampaignField path="plan" label={t('subscriptions.newForm.plan')} error={placed.get('plan')}>
              {(aria) => (
                <select {...aria} value={chosen?.name ?? ''} onChange={(e) => setPlan(e.target.value)}>
                  {active.map((p) => (
                    <option key={p.name} value={p.name}>
                      {p.definition.title ? `${p.definition.title} (${p.name})` : p.name}
                    </option>
                  ))}
                </select>
              )}
            </CampaignField>
            <CampaignField
              path="sku"
              label={t('subscriptions.newForm.sku')}
              help={products.length ? t('subscriptions.newForm.skuList') : t('subscriptions.newForm.skuAny')}
              error={placed.get('sku')}
            >
              {(aria) =>
                products.length ? (
                  <select {...aria} value={sellsSku} onChange={(e) => setSku(e.target.value)}>
                    {products.map((s) => (
                      <option key={s} value={s}>
                        {s}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input {...aria} autoComplete="off" value={sku} onChange={(e) => setSku(e.target.value)} />
                )
              }
            </CampaignField>
            <CampaignField
              path="quantity"
              label={t('subscriptions.newForm.quantity')}
              error={placed.get('quantity')}
            >
              {(aria) => (
                <input
                  {...aria}
                  type="number"
                  className="short"
                  inputMode="numeric"
                  min={1}
                  max={100}
                  value={quantity}
                  onChange={(e) => setQuantity(e.target.value)}
                />
              )}
            </CampaignField>
            <CampaignField
              path="firstDelivery"
              label={t('subscriptions.newForm.first')}
              help={t('subscriptions.newForm.firstHelp')}
              error={placed.get('firstDelivery')}
            >
              {(aria) => (
                <input {...aria} type="date" value={first} onChange={(e) => setFirst(e.target.value)} />
              )}
            </CampaignField>
          </div>
          <p className="save">
            <button type="submit" disabled={create.isPending}>
              {t('subscriptions.newForm.save')}
            </button>
          </p>
        </form>
      )}
    </section>
  );
}
