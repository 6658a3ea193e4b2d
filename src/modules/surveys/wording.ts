import { escapeHtml, type PageLang } from '../messaging/pages.js';
import type { SurveyDefinition, SurveyKind } from './schema.js';

/**
 * What a survey says, in uk, ru and en: the questions (the store's own wording, else these), the
 * invitation message, and the contact-facing pages of the links (`/s/…`). Small, self-contained HTML
 * with no scripts, readable on a phone; every value escaped.
 */

export const LANGS: PageLang[] = ['en', 'uk', 'ru'];

const DEFAULTS: Record<SurveyKind, Record<PageLang, { question: string; why: string }>> = {
  nps: {
    en: {
      question: 'How likely are you to recommend us to a friend?',
      why: 'What is the main reason for your score?',
    },
    uk: {
      question: 'Наскільки ймовірно, що ви порадите нас другові?',
      why: 'Яка головна причина вашої оцінки?',
    },
    ru: {
      question: 'Насколько вероятно, что вы порекомендуете нас другу?',
      why: 'Какова главная причина вашей оценки?',
    },
  },
  csat: {
    en: {
      question: 'How satisfied are you with your recent order?',
      why: 'What is the main reason for your score?',
    },
    uk: {
      question: 'Наскільки ви задоволені вашим останнім замовленням?',
      why: 'Яка головна причина вашої оцінки?',
    },
    ru: {
      question: 'Насколько вы довольны вашим последним заказом?',
      why: 'Какова главная причина вашей оценки?',
    },
  },
};

const TEXT = {
  en: {
    subject: 'A quick question about your order',
    hello: 'Hello',
    scale: { nps: '0 — not at all likely, 10 — extremely likely', csat: '1 — very unhappy, 5 — very happy' },
    tap: 'One tap on a number is your answer.',
    yourScore: 'Your score',
    change: 'Tap another number to change it:',
    placeholder: 'Tell us in a few words (optional)',
    send: 'Send',
    thanks: 'Thank you!',
    thanksBody: 'Your answer has been saved. It helps us do better.',
    done: 'Already answered',
    doneBody: 'This survey has already been answered. Thank you!',
    expired: 'This survey has closed',
    expiredBody: 'The link has expired.',
    invalid: 'This link is not valid',
    invalidBody: 'It may have been copied incompletely. Please use the link from the message.',
    unsubscribe: 'Unsubscribe',
  },
  uk: {
    subject: 'Коротке запитання про ваше замовлення',
    hello: 'Вітаємо',
    scale: { nps: '0 — зовсім ні, 10 — неодмінно', csat: '1 — дуже незадоволені, 5 — дуже задоволені' },
    tap: 'Один дотик до числа — і це ваша відповідь.',
    yourScore: 'Ваша оцінка',
    change: 'Торкніться іншого числа, щоб змінити її:',
    placeholder: 'Кілька слів (необов’язково)',
    send: 'Надіслати',
    thanks: 'Дякуємо!',
    thanksBody: 'Вашу відповідь збережено. Вона допомагає нам ставати кращими.',
    done: 'Відповідь уже надано',
    doneBody: 'На це опитування вже відповіли. Дякуємо!',
    expired: 'Опитування завершено',
    expiredBody: 'Термін дії посилання минув.',
    invalid: 'Посилання недійсне',
    invalidBody: 'Можливо, його скопійовано не повністю. Скористайтеся посиланням із листа.',
    unsubscribe: 'Відписатися',
  },
  ru: {
    subject: 'Короткий вопрос о вашем заказе',
    hello: 'Здравствуйте',
    scale: { nps: '0 — точно нет, 10 — обязательно', csat: '1 — очень недовольны, 5 — очень довольны' },
    tap: 'Одно касание числа — и это ваш ответ.',
    yourScore: 'Ваша оценка',
    change: 'Коснитесь другого числа, чтобы изменить её:',
    placeholder: 'Несколько слов (необязательно)',
    send: 'Отправить',
    thanks: 'Спасибо!',
    thanksBody: 'Ваш ответ сохранён. Он помогает нам становиться лучше.',
    done: 'Ответ уже получен',
    doneBody: 'На этот опрос уже ответили. Спасибо!',
    expired: 'Опрос завершён',
    expiredBody: 'Срок действия ссылки истёк.',
    invalid: 'Ссылка недействительна',
    invalidBody: 'Возможно, её скопировали не полностью. Воспользуйтесь ссылкой из письма.',
    unsubscribe: 'Отписаться',
  },
} as const;

export const scoresOf = (kind: SurveyKind) =>
  kind === 'nps' ? Array.from({ length: 11 }, (_, i) => i) : [1, 2, 3, 4, 5];

export function wordingOf(d: Pick<SurveyDefinition, 'kind' | 'wording'>, lang: PageLang) {
  return d.wording?.[lang] ?? DEFAULTS[d.kind][lang];
}

/** The invitation template (messaging): one variant per language, the score links from `survey.scores`. */
export function invitationTemplate(name: string, d: Pick<SurveyDefinition, 'kind' | 'wording'>) {
  return {
    name,
    channel: 'email',
    kind: 'marketing',
    variants: LANGS.map((l) => {
      const w = wordingOf(d, l);
      const t = TEXT[l];
      const link =
        'display:inline-block;min-width:2.2em;padding:10px 0;margin:2px;border:1px solid #888;border-radius:4px;text-align:center;text-decoration:none;color:#111;font-size:18px';
      return {
        locale: l,
        subject: t.subject,
        body: [
          '<mjml><mj-body><mj-section><mj-column>',
          `<mj-text>${t.hello}{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!</mj-text>`,
          `<mj-text font-size="18px">${escapeHtml(w.question)}</mj-text>`,
          `<mj-text>{% for s in survey.scores %}<a href="{{ s.url }}" style="${link}">{{ s.score }}</a>{% endfor %}</mj-text>`,
          `<mj-text color="#555">${escapeHtml(t.scale[d.kind])}. ${escapeHtml(t.tap)}</mj-text>`,
          `<mj-text font-size="12px"><a href="{{ unsubscribe_url }}">${t.unsubscribe}</a></mj-text>`,
          '</mj-column></mj-section></mj-body></mjml>',
        ].join(''),
      };
    }),
  };
}

function page(lang: PageLang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.4}textarea{width:100%;min-height:8rem;font:inherit;box-sizing:border-box}button{font-size:1rem;padding:.7rem 1.4rem;margin-top:1rem}.scores a{display:inline-block;min-width:2.2em;padding:.5rem 0;margin:2px;border:1px solid #888;border-radius:4px;text-align:center;text-decoration:none;color:#111}.scores a[aria-current]{background:#111;color:#fff}label{display:block;font-weight:600;margin-top:1rem}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** The page a score link opens: the score taken, the "why" question and its form. */
export function whyPage(
  lang: PageLang,
  o: {
    kind: SurveyKind;
    question: string;
    why: string;
    score: number;
    scoreUrls: { score: number; url: string }[];
    formAction: string;
    answer: string | null;
  },
): string {
  const t = TEXT[lang];
  const scores = o.scoreUrls
    .map(
      (s) =>
        `<a href="${escapeHtml(s.url)}"${s.score === o.score ? ' aria-current="true"' : ''}>${s.score}</a>`,
    )
    .join('');
  return page(
    lang,
    o.question,
    `<p>${escapeHtml(t.yourScore)}: <strong>${o.score}</strong></p>` +
      `<p class="scores" aria-label="${escapeHtml(t.change)}">${scores}</p>` +
      `<form method="post" action="${escapeHtml(o.formAction)}"><label for="why">${escapeHtml(o.why)}</label>` +
      `<textarea id="why" name="why" maxlength="2000" placeholder="${escapeHtml(t.placeholder)}">${escapeHtml(o.answer ?? '')}</textarea>` +
      `<button type="submit">${escapeHtml(t.send)}</button></form>`,
  );
}

export const thanksPage = (lang: PageLang) =>
  page(lang, TEXT[lang].thanks, `<p>${escapeHtml(TEXT[lang].thanksBody)}</p>`);
export const answeredPage = (lang: PageLang) =>
  page(lang, TEXT[lang].done, `<p>${escapeHtml(TEXT[lang].doneBody)}</p>`);
export const expiredPage = (lang: PageLang) =>
  page(lang, TEXT[lang].expired, `<p>${escapeHtml(TEXT[lang].expiredBody)}</p>`);
export const invalidPage = (lang: PageLang) =>
  page(lang, TEXT[lang].invalid, `<p>${escapeHtml(TEXT[lang].invalidBody)}</p>`);
