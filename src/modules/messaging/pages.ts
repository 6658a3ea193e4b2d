/**
 * The contact-facing pages of the consent tools (the preference page, the double opt-in confirmation,
 * the page of a link that is not valid), in uk, ru and en (else en). Small, self-contained HTML with no
 * scripts, readable on a phone; every value escaped.
 */

export type PageLang = 'uk' | 'ru' | 'en';

export const langOf = (locale: string | null | undefined): PageLang => {
  const l = locale?.slice(0, 2).toLowerCase();
  return l === 'uk' || l === 'ru' ? l : 'en';
};

/** The language of an `Accept-Language` header (for a page with no contact behind it). */
export function langOfHeader(header: string | undefined): PageLang {
  for (const part of (header ?? '').split(',')) {
    const l = langOf(part.trim());
    if (l !== 'en' || part.trim().toLowerCase().startsWith('en')) return l;
  }
  return 'en';
}

export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string,
  );

/** Headers of every such page: never cached, never framed, the token never sent on as a Referer. */
export const PAGE_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function page(lang: PageLang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.4}label{display:flex;gap:.75rem;align-items:flex-start;padding:.75rem 0;border-bottom:1px solid #ddd}input[type=checkbox]{width:1.4rem;height:1.4rem;flex:none}small{color:#555;display:block}button{font-size:1rem;padding:.7rem 1.4rem;margin-top:1rem}.note{background:#eef7ee;padding:.6rem .8rem}</style></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const PREFS = {
  en: {
    title: 'Your message preferences',
    intro: 'Choose how we may contact you with news and offers:',
    save: 'Save',
    saved: 'Saved. Thank you.',
    on: 'on',
    off: 'off',
    channels: {
      email: ['Email', 'news and offers by email'],
      sms: ['SMS', 'news and offers by text message'],
      messenger: ['Messenger', 'news and offers from our Telegram bot'],
      ads: ['Ads', 'personalised ads on other websites and apps'],
    },
  },
  uk: {
    title: 'Ваші налаштування розсилок',
    intro: 'Оберіть, як ми можемо надсилати вам новини та пропозиції:',
    save: 'Зберегти',
    saved: 'Збережено. Дякуємо.',
    on: 'увімкнено',
    off: 'вимкнено',
    channels: {
      email: ['Email', 'новини та пропозиції електронною поштою'],
      sms: ['SMS', 'новини та пропозиції в SMS'],
      messenger: ['Месенджер', 'новини та пропозиції від нашого Telegram-бота'],
      ads: ['Реклама', 'персоналізована реклама на інших сайтах і в застосунках'],
    },
  },
  ru: {
    title: 'Ваши настройки рассылок',
    intro: 'Выберите, как мы можем присылать вам новости и предложения:',
    save: 'Сохранить',
    saved: 'Сохранено. Спасибо.',
    on: 'включено',
    off: 'выключено',
    channels: {
      email: ['Email', 'новости и предложения по электронной почте'],
      sms: ['SMS', 'новости и предложения в SMS'],
      messenger: ['Мессенджер', 'новости и предложения от нашего Telegram-бота'],
      ads: ['Реклама', 'персонализированная реклама на других сайтах и в приложениях'],
    },
  },
} as const;

type Channel = keyof (typeof PREFS)['en']['channels'];
const CHANNELS: readonly Channel[] = ['email', 'sms', 'messenger', 'ads'];

/** The wording of the form as the contact saw it, with what they chose: the ledger's proof. */
export function preferencesWording(lang: PageLang, on: ReadonlySet<string>): string {
  const t = PREFS[lang];
  return [
    t.intro,
    ...CHANNELS.map((c) => `[${on.has(c) ? 'x' : ' '}] ${t.channels[c][0]}: ${t.channels[c][1]}`),
  ].join('\n');
}

export function preferencesPage(
  locale: string | null,
  channels: Readonly<Record<string, string | null>>,
  saved: boolean,
): string {
  const lang = langOf(locale);
  const t = PREFS[lang];
  const rows = CHANNELS.map((c) => {
    const granted = channels[c] === 'granted';
    return `<label><input type="checkbox" name="channel" value="${c}"${granted ? ' checked' : ''}><span><b>${escapeHtml(t.channels[c][0])}</b> <small>${escapeHtml(t.channels[c][1])} · ${escapeHtml(granted ? t.on : t.off)}</small></span></label>`;
  }).join('');
  return page(
    lang,
    t.title,
    `${saved ? `<p class="note">${escapeHtml(t.saved)}</p>` : ''}<form method="post"><input type="hidden" name="form" value="preferences"><p>${escapeHtml(t.intro)}</p>${rows}<button type="submit">${escapeHtml(t.save)}</button></form>`,
  );
}

const CONFIRM = {
  en: {
    title: 'Confirm your subscription',
    ask: {
      email: 'Confirm that you want our news and offers by email.',
      sms: 'Confirm that you want our news and offers by SMS.',
    },
    button: 'Confirm',
    done: 'Thank you: your subscription is confirmed.',
    expired: 'This link has expired. Subscribe again and we will send a new one.',
  },
  uk: {
    title: 'Підтвердіть підписку',
    ask: {
      email: 'Підтвердіть, що хочете отримувати наші новини та пропозиції електронною поштою.',
      sms: 'Підтвердіть, що хочете отримувати наші новини та пропозиції в SMS.',
    },
    button: 'Підтвердити',
    done: 'Дякуємо: підписку підтверджено.',
    expired: 'Термін дії посилання минув. Підпишіться знову, і ми надішлемо нове.',
  },
  ru: {
    title: 'Подтвердите подписку',
    ask: {
      email: 'Подтвердите, что хотите получать наши новости и предложения по электронной почте.',
      sms: 'Подтвердите, что хотите получать наши новости и предложения в SMS.',
    },
    button: 'Подтвердить',
    done: 'Спасибо: подписка подтверждена.',
    expired: 'Срок действия ссылки истёк. Подпишитесь снова, и мы пришлём новую.',
  },
} as const;

/** The words of the confirmation the contact clicked (the ledger's proof). */
export function confirmWording(lang: PageLang, channel: 'email' | 'sms'): string {
  return `${CONFIRM[lang].ask[channel]} [${CONFIRM[lang].button}]`;
}

export function confirmPage(
  locale: string | null,
  channel: 'email' | 'sms',
  state: 'pending' | 'confirmed' | 'expired',
): string {
  const lang = langOf(locale);
  const t = CONFIRM[lang];
  const body =
    state === 'confirmed'
      ? `<p class="note">${escapeHtml(t.done)}</p>`
      : state === 'expired'
        ? `<p>${escapeHtml(t.expired)}</p>`
        : `<p>${escapeHtml(t.ask[channel])}</p><form method="post"><button type="submit">${escapeHtml(t.button)}</button></form>`;
  return page(lang, t.title, body);
}

const NOT_VALID = {
  en: ['Link not valid', 'This link is not valid.'],
  uk: ['Посилання недійсне', 'Це посилання недійсне.'],
  ru: ['Ссылка недействительна', 'Эта ссылка недействительна.'],
} as const;

/** The 404 of a link that is not ours, altered, or whose contact was erased: no details. */
export function notValidPage(lang: PageLang): string {
  return page(lang, NOT_VALID[lang][0], `<p>${escapeHtml(NOT_VALID[lang][1])}</p>`);
}
