import { AppError } from '../../shared/errors.js';
import type { TemplateSource } from './templateSchema.js';

/**
 * The double opt-in confirmation messages. Built in (uk, ru, en); a store overrides one by saving a
 * template of the same name (`double-opt-in-email`, `double-opt-in-sms`) — transactional, on that
 * channel, linking `{{ confirm_url }}`. The built-in one is stored as a template version the first time
 * it is needed, so every confirmation names the version it rendered like any other send.
 */
export const OPTIN_TEMPLATES = { email: 'double-opt-in-email', sms: 'double-opt-in-sms' } as const;
export type OptInChannel = keyof typeof OPTIN_TEMPLATES;

const email = (locale: string, subject: string, lead: string, button: string, note: string) => ({
  locale,
  subject,
  body: `<mjml><mj-body><mj-section><mj-column>
<mj-text font-size="16px">${lead}</mj-text>
<mj-button href="{{ confirm_url }}">${button}</mj-button>
<mj-text font-size="13px" color="#666666">${note}</mj-text>
</mj-column></mj-section></mj-body></mjml>`,
  text: `${lead}\n\n${button}: {{ confirm_url }}\n\n${note}`,
});

export const BUILT_IN_OPTIN: Record<OptInChannel, TemplateSource> = {
  email: {
    name: OPTIN_TEMPLATES.email,
    channel: 'email',
    kind: 'transactional',
    variants: [
      email(
        'uk',
        'Підтвердіть підписку',
        'Ви погодилися отримувати від нас листи. Підтвердіть, будь ласка, що ця адреса ваша.',
        'Підтвердити підписку',
        'Якщо ви не підписувалися, просто ігноруйте цей лист: без підтвердження ми нічого не надсилатимемо. Посилання дійсне 7 днів.',
      ),
      email(
        'ru',
        'Подтвердите подписку',
        'Вы согласились получать от нас письма. Подтвердите, пожалуйста, что этот адрес ваш.',
        'Подтвердить подписку',
        'Если вы не подписывались, просто проигнорируйте это письмо: без подтверждения мы ничего не будем присылать. Ссылка действительна 7 дней.',
      ),
      email(
        'en',
        'Please confirm your subscription',
        'You asked to receive our emails. Please confirm that this address is yours.',
        'Confirm my subscription',
        'If you did not ask for this, ignore this email: without a confirmation we send you nothing. The link works for 7 days.',
      ),
    ],
  } as TemplateSource,
  sms: {
    name: OPTIN_TEMPLATES.sms,
    channel: 'sms',
    kind: 'transactional',
    variants: [
      { locale: 'uk', body: 'Підтвердіть підписку на SMS: {{ confirm_url }}' },
      { locale: 'ru', body: 'Подтвердите подписку на SMS: {{ confirm_url }}' },
      { locale: 'en', body: 'Confirm your SMS subscription: {{ confirm_url }}' },
    ],
  } as TemplateSource,
};

/**
 * Refuses a saved confirmation template that could not do its job: another channel, marketing (it
 * would need the consent it asks for), or a variant without the link.
 */
export function checkOptInTemplate(source: TemplateSource): void {
  const channel = (Object.keys(OPTIN_TEMPLATES) as OptInChannel[]).find(
    (c) => OPTIN_TEMPLATES[c] === source.name,
  );
  if (!channel) return;
  if (source.channel !== channel)
    throw new AppError('validation', `template '${source.name}' is the ${channel} double opt-in message`, {
      where: { field: 'channel' },
    });
  if (source.kind !== 'transactional')
    throw new AppError(
      'validation',
      `template '${source.name}' must be transactional: it goes to contacts who have not consented yet`,
      { where: { field: 'kind' } },
    );
  source.variants.forEach((v, i) => {
    const parts = [v.body, v.text ?? ''].join('\n');
    if (!/\{\{-?\s*confirm_url\b/.test(parts))
      throw new AppError(
        'validation',
        `template '${source.name}' variant ${v.locale} must link {{ confirm_url }} (the confirmation link)`,
        { where: { field: `variants[${i}].body` } },
      );
  });
}
