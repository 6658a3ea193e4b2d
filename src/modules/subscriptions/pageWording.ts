import { minorDigits } from '../../shared/money.js';
import { escapeHtml, type PageLang } from '../messaging/pages.js';
import { CancelReason, type SubscriptionDetail } from './schema.js';

/**
 * The customer's page of a subscription (`/m/<token>`) in uk, ru and en: the terms, one form per action
 * the status allows, and the cancel page that offers a skip or a pause before the reasons. Small,
 * self-contained HTML with no scripts, readable on a phone, every value escaped; labels for every field,
 * a confirmation as `role="status"`, a refusal as `role="alert"` beside the form it concerns.
 */

export type PageAction =
  'skip' | 'reschedule' | 'pause' | 'resume' | 'quantity' | 'swap' | 'cancel' | 'reactivate';
type Status = SubscriptionDetail['status'];
type Reason = (typeof CancelReason.options)[number];

interface Words {
  title: string;
  product: string;
  quantity: string;
  price: string;
  perDelivery: string;
  every: string;
  next: string;
  then: string;
  status: string;
  pausedUntil: string;
  cancelledOn: string;
  statuses: Record<Status, string>;
  interval: (every: number, unit: 'day' | 'week' | 'month') => string;
  skip: { h: string; p: (date: string) => string; button: string };
  reschedule: { h: string; label: string; button: string };
  pause: { h: string; label: string; hint: string; button: string };
  resume: { h: string; label: string; button: string };
  changeQuantity: { h: string; label: string; button: string };
  swap: { h: string; label: string; button: string };
  cancel: { h: string; link: string };
  reactivate: { h: string; p: string; label: string; button: string };
  cancelPage: {
    title: string;
    breakH: string;
    breakP: string;
    skipButton: (date: string) => string;
    pauseLegend: string;
    months: (n: number, until: string) => string;
    reasonsH: string;
    reasonsLegend: string;
    note: string;
    confirm: string;
    keep: string;
  };
  reasons: Record<Reason, string>;
  done: {
    skip: (next: string) => string;
    reschedule: (date: string) => string;
    pause: (date: string) => string;
    resume: (next: string) => string;
    quantity: (n: number) => string;
    swap: (title: string) => string;
    cancel: string;
    reactivate: (next: string) => string;
  };
  errors: {
    date: (today: string) => string;
    until: (today: string) => string;
    quantity: string;
    sku: string;
    reason: string;
    note: string;
    stale: string;
    status: (status: string) => string;
    archived: string;
    generic: string;
    form: string;
  };
  refused: Record<'invalid' | 'gone' | 'missing', [string, string]>;
  private: string;
}

/** One, few, many (uk, ru): 1 день, 2 дні, 5 днів. */
const slavic = (lang: 'uk' | 'ru', n: number, forms: readonly [string, string, string]) => {
  const k = new Intl.PluralRules(lang).select(n);
  return k === 'one' ? forms[0] : k === 'few' ? forms[1] : forms[2];
};

type Forms = [string, string, string];
/** The interval's unit after a number: раз на 2 тижні, раз в 5 недель. */
const UNITS: Record<'uk' | 'ru', Record<'day' | 'week' | 'month', Forms>> = {
  uk: {
    day: ['день', 'дні', 'днів'],
    week: ['тиждень', 'тижні', 'тижнів'],
    month: ['місяць', 'місяці', 'місяців'],
  },
  ru: {
    day: ['день', 'дня', 'дней'],
    week: ['неделю', 'недели', 'недель'],
    month: ['месяц', 'месяца', 'месяцев'],
  },
};

const TEXT: Record<PageLang, Words> = {
  en: {
    title: 'Your subscription',
    product: 'Product',
    quantity: 'Quantity',
    price: 'Price',
    perDelivery: 'per delivery',
    every: 'Delivered',
    next: 'Next delivery',
    then: 'Then',
    status: 'Status',
    pausedUntil: 'Paused until',
    cancelledOn: 'Cancelled on',
    statuses: { active: 'Active', paused: 'Paused', past_due: 'Payment overdue', cancelled: 'Cancelled' },
    interval: (every, unit) => (every === 1 ? `every ${unit}` : `every ${every} ${unit}s`),
    skip: {
      h: 'Skip the next delivery',
      p: (date) => `The delivery of ${date} is not made; the one after it comes as usual.`,
      button: 'Skip it',
    },
    reschedule: { h: 'Move the next delivery', label: 'New date', button: 'Move it' },
    pause: {
      h: 'Pause',
      label: 'Pause until',
      hint: 'Deliveries start again on this date.',
      button: 'Pause',
    },
    resume: { h: 'Resume', label: 'Start again on (empty: today)', button: 'Resume' },
    changeQuantity: { h: 'Change the quantity', label: 'Units per delivery (1–100)', button: 'Change' },
    swap: { h: 'Change the product', label: 'Product', button: 'Change' },
    cancel: { h: 'Cancel the subscription', link: 'Cancel the subscription…' },
    reactivate: {
      h: 'Subscribe again',
      p: 'At today’s price.',
      label: 'First delivery on (empty: today)',
      button: 'Subscribe again',
    },
    cancelPage: {
      title: 'Cancel your subscription?',
      breakH: 'Would a break do instead?',
      breakP:
        'You can skip only the next delivery, or pause for a while: nothing is lost, and you can come back at any time.',
      skipButton: (date) => `Skip only the delivery of ${date}`,
      pauseLegend: 'Pause for',
      months: (n, until) => `${n} month${n === 1 ? '' : 's'} (until ${until})`,
      reasonsH: 'Cancel',
      reasonsLegend: 'Why are you cancelling?',
      note: 'Anything else you would like to tell us (optional)',
      confirm: 'Cancel the subscription',
      keep: 'Keep my subscription',
    },
    reasons: {
      too_expensive: 'It is too expensive',
      too_much_product: 'I have too much of it',
      not_needed: 'I no longer need it',
      quality: 'I am not happy with the quality',
      delivery: 'Problems with delivery',
      switching: 'I am switching to another product or shop',
      moving: 'I am moving',
      other: 'Another reason',
    },
    done: {
      skip: (next) => `Done: the next delivery is skipped. The next one is on ${next}.`,
      reschedule: (date) => `Done: the next delivery is moved to ${date}.`,
      pause: (date) => `Done: the subscription is paused until ${date}.`,
      resume: (next) => `Done: the subscription is resumed. The next delivery is on ${next}.`,
      quantity: (n) => `Done: ${n} per delivery from now on.`,
      swap: (title) => `Done: from now on you get “${title}”.`,
      cancel: 'Your subscription is cancelled. Thank you for having been with us.',
      reactivate: (next) => `Welcome back! The next delivery is on ${next}.`,
    },
    errors: {
      date: (today) => `Choose a date from ${today} on.`,
      until: (today) => `Choose a date after ${today}.`,
      quantity: 'Choose 1 to 100 units.',
      sku: 'This product cannot be chosen for this subscription.',
      reason: 'Choose a reason.',
      note: 'Please keep it under 2,000 characters.',
      stale:
        'The subscription changed after this page was opened (was the form sent twice?): nothing was changed. Here it is now.',
      status: (status) => `This cannot be done now (status: ${status}).`,
      archived: 'This plan is no longer offered, so the subscription cannot start again.',
      generic: 'That did not work. Please check and try again.',
      form: 'Please use the form on this page.',
    },
    refused: {
      invalid: [
        'Link not valid',
        'This link is not valid. It may have been copied incompletely: please use the link from our message.',
      ],
      gone: ['Subscription not available', 'This subscription is no longer available.'],
      missing: ['Subscription not found', 'There is no such subscription.'],
    },
    private: 'Keep this link to yourself: anyone who has it can change your subscription.',
  },
  uk: {
    title: 'Ваша підписка',
    product: 'Товар',
    quantity: 'Кількість',
    price: 'Ціна',
    perDelivery: 'за доставку',
    every: 'Доставка',
    next: 'Наступна доставка',
    then: 'Далі',
    status: 'Стан',
    pausedUntil: 'Призупинено до',
    cancelledOn: 'Скасовано',
    statuses: {
      active: 'Активна',
      paused: 'Призупинена',
      past_due: 'Оплату прострочено',
      cancelled: 'Скасована',
    },
    interval: (every, unit) =>
      every === 1
        ? { day: 'щодня', week: 'щотижня', month: 'щомісяця' }[unit]
        : `раз на ${every} ${slavic('uk', every, UNITS.uk[unit])}`,
    skip: {
      h: 'Пропустити наступну доставку',
      p: (date) => `Доставки ${date} не буде; наступна прийде як зазвичай.`,
      button: 'Пропустити',
    },
    reschedule: { h: 'Перенести наступну доставку', label: 'Нова дата', button: 'Перенести' },
    pause: {
      h: 'Призупинити',
      label: 'Призупинити до',
      hint: 'З цієї дати доставки відновляться.',
      button: 'Призупинити',
    },
    resume: { h: 'Відновити', label: 'Відновити з (порожньо — сьогодні)', button: 'Відновити' },
    changeQuantity: { h: 'Змінити кількість', label: 'Одиниць у доставці (1–100)', button: 'Змінити' },
    swap: { h: 'Змінити товар', label: 'Товар', button: 'Змінити' },
    cancel: { h: 'Скасувати підписку', link: 'Скасувати підписку…' },
    reactivate: {
      h: 'Підписатися знову',
      p: 'За сьогоднішньою ціною.',
      label: 'Перша доставка (порожньо — сьогодні)',
      button: 'Підписатися знову',
    },
    cancelPage: {
      title: 'Скасувати підписку?',
      breakH: 'Може, краще перерва?',
      breakP:
        'Можна пропустити лише наступну доставку або призупинити підписку на якийсь час: нічого не втрачається, і ви можете повернутися будь-коли.',
      skipButton: (date) => `Пропустити лише доставку ${date}`,
      pauseLegend: 'Призупинити на',
      months: (n, until) => `${n} ${slavic('uk', n, UNITS.uk.month)} (до ${until})`,
      reasonsH: 'Скасувати',
      reasonsLegend: 'Чому ви скасовуєте підписку?',
      note: 'Що ще ви хотіли б нам сказати (необов’язково)',
      confirm: 'Скасувати підписку',
      keep: 'Залишити підписку',
    },
    reasons: {
      too_expensive: 'Це задорого',
      too_much_product: 'У мене забагато товару',
      not_needed: 'Мені це більше не потрібно',
      quality: 'Мене не влаштовує якість',
      delivery: 'Проблеми з доставкою',
      switching: 'Я переходжу на інший товар чи в інший магазин',
      moving: 'Я переїжджаю',
      other: 'Інша причина',
    },
    done: {
      skip: (next) => `Готово: наступну доставку пропущено. Наступна — ${next}.`,
      reschedule: (date) => `Готово: наступну доставку перенесено на ${date}.`,
      pause: (date) => `Готово: підписку призупинено до ${date}.`,
      resume: (next) => `Готово: підписку відновлено. Наступна доставка — ${next}.`,
      quantity: (n) => `Готово: відтепер ${n} шт. у доставці.`,
      swap: (title) => `Готово: відтепер ви отримуватимете «${title}».`,
      cancel: 'Підписку скасовано. Дякуємо, що були з нами.',
      reactivate: (next) => `Раді, що ви повернулися! Наступна доставка — ${next}.`,
    },
    errors: {
      date: (today) => `Оберіть дату не раніше ${today}.`,
      until: (today) => `Оберіть дату після ${today}.`,
      quantity: 'Оберіть від 1 до 100 одиниць.',
      sku: 'Цей товар не можна обрати для цієї підписки.',
      reason: 'Оберіть причину.',
      note: 'Будь ласка, не більше 2000 символів.',
      stale:
        'Підписка змінилася відтоді, як цю сторінку було відкрито (можливо, форму надіслано двічі): нічого не змінено. Ось її поточний стан.',
      status: (status) => `Зараз це неможливо (стан: ${status}).`,
      archived: 'Цей план більше не пропонується, тож підписатися знову не можна.',
      generic: 'Не вдалося. Перевірте дані й спробуйте ще раз.',
      form: 'Скористайтеся формою на цій сторінці.',
    },
    refused: {
      invalid: [
        'Посилання недійсне',
        'Це посилання недійсне. Можливо, його скопійовано не повністю: скористайтеся посиланням із нашого листа.',
      ],
      gone: ['Підписка недоступна', 'Ця підписка більше недоступна.'],
      missing: ['Підписку не знайдено', 'Такої підписки немає.'],
    },
    private: 'Не передавайте це посилання іншим: будь-хто, хто його має, може змінити вашу підписку.',
  },
  ru: {
    title: 'Ваша подписка',
    product: 'Товар',
    quantity: 'Количество',
    price: 'Цена',
    perDelivery: 'за доставку',
    every: 'Доставка',
    next: 'Следующая доставка',
    then: 'Дальше',
    status: 'Статус',
    pausedUntil: 'Приостановлена до',
    cancelledOn: 'Отменена',
    statuses: {
      active: 'Активна',
      paused: 'Приостановлена',
      past_due: 'Оплата просрочена',
      cancelled: 'Отменена',
    },
    interval: (every, unit) =>
      every === 1
        ? { day: 'каждый день', week: 'каждую неделю', month: 'каждый месяц' }[unit]
        : `раз в ${every} ${slavic('ru', every, UNITS.ru[unit])}`,
    skip: {
      h: 'Пропустить следующую доставку',
      p: (date) => `Доставки ${date} не будет; следующая придёт как обычно.`,
      button: 'Пропустить',
    },
    reschedule: { h: 'Перенести следующую доставку', label: 'Новая дата', button: 'Перенести' },
    pause: {
      h: 'Приостановить',
      label: 'Приостановить до',
      hint: 'С этой даты доставки возобновятся.',
      button: 'Приостановить',
    },
    resume: { h: 'Возобновить', label: 'Возобновить с (пусто — сегодня)', button: 'Возобновить' },
    changeQuantity: { h: 'Изменить количество', label: 'Единиц в доставке (1–100)', button: 'Изменить' },
    swap: { h: 'Сменить товар', label: 'Товар', button: 'Сменить' },
    cancel: { h: 'Отменить подписку', link: 'Отменить подписку…' },
    reactivate: {
      h: 'Подписаться снова',
      p: 'По сегодняшней цене.',
      label: 'Первая доставка (пусто — сегодня)',
      button: 'Подписаться снова',
    },
    cancelPage: {
      title: 'Отменить подписку?',
      breakH: 'Может, лучше перерыв?',
      breakP:
        'Можно пропустить только следующую доставку или приостановить подписку на время: ничего не потеряется, и вы сможете вернуться в любой момент.',
      skipButton: (date) => `Пропустить только доставку ${date}`,
      pauseLegend: 'Приостановить на',
      months: (n, until) => `${n} ${slavic('ru', n, UNITS.ru.month)} (до ${until})`,
      reasonsH: 'Отменить',
      reasonsLegend: 'Почему вы отменяете подписку?',
      note: 'Что ещё вы хотели бы нам сказать (необязательно)',
      confirm: 'Отменить подписку',
      keep: 'Оставить подписку',
    },
    reasons: {
      too_expensive: 'Это слишком дорого',
      too_much_product: 'У меня слишком много товара',
      not_needed: 'Мне это больше не нужно',
      quality: 'Меня не устраивает качество',
      delivery: 'Проблемы с доставкой',
      switching: 'Я перехожу на другой товар или в другой магазин',
      moving: 'Я переезжаю',
      other: 'Другая причина',
    },
    done: {
      skip: (next) => `Готово: следующая доставка пропущена. Следующая — ${next}.`,
      reschedule: (date) => `Готово: следующая доставка перенесена на ${date}.`,
      pause: (date) => `Готово: подписка приостановлена до ${date}.`,
      resume: (next) => `Готово: подписка возобновлена. Следующая доставка — ${next}.`,
      quantity: (n) => `Готово: теперь ${n} шт. в доставке.`,
      swap: (title) => `Готово: теперь вы будете получать «${title}».`,
      cancel: 'Подписка отменена. Спасибо, что были с нами.',
      reactivate: (next) => `Рады, что вы вернулись! Следующая доставка — ${next}.`,
    },
    errors: {
      date: (today) => `Выберите дату не раньше ${today}.`,
      until: (today) => `Выберите дату после ${today}.`,
      quantity: 'Выберите от 1 до 100 единиц.',
      sku: 'Этот товар нельзя выбрать для этой подписки.',
      reason: 'Выберите причину.',
      note: 'Пожалуйста, не больше 2000 символов.',
      stale:
        'Подписка изменилась с тех пор, как эта страница была открыта (возможно, форма отправлена дважды): ничего не изменено. Вот её текущее состояние.',
      status: (status) => `Сейчас это невозможно (статус: ${status}).`,
      archived: 'Этот план больше не предлагается, поэтому подписаться снова нельзя.',
      generic: 'Не получилось. Проверьте данные и попробуйте ещё раз.',
      form: 'Воспользуйтесь формой на этой странице.',
    },
    refused: {
      invalid: [
        'Ссылка недействительна',
        'Эта ссылка недействительна. Возможно, её скопировали не полностью: воспользуйтесь ссылкой из нашего письма.',
      ],
      gone: ['Подписка недоступна', 'Эта подписка больше недоступна.'],
      missing: ['Подписка не найдена', 'Такой подписки нет.'],
    },
    private: 'Не передавайте эту ссылку другим: любой, у кого она есть, может изменить вашу подписку.',
  },
};

/** A local date `YYYY-MM-DD` as the customer reads it: `Monday, 15 February 2027`. */
export function dateText(lang: PageLang, date: string, weekday = false): string {
  const at = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(at.getTime())) return date;
  return new Intl.DateTimeFormat(lang, {
    timeZone: 'UTC',
    ...(weekday ? { weekday: 'long' } : {}),
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(at);
}

export function moneyText(lang: PageLang, minor: number, currency: string): string {
  const digits = minorDigits(currency);
  try {
    return new Intl.NumberFormat(lang, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(minor / 10 ** digits);
  } catch {
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}

/** Why an action was refused, in the customer's words (the service's own message is for agents). */
export type Refusal =
  | { kind: 'field'; field: string }
  | { kind: 'stale' }
  | { kind: 'status' }
  | { kind: 'archived' }
  | { kind: 'form' }
  | { kind: 'other' };

/** A sentence ending in an abbreviated date (`… 2027 р.`) takes no second full stop. */
const sentence = (s: string) => s.replace(/\.\.$/, '.');

export const refusalText = (lang: PageLang, r: Refusal, o: { today: string; status: Status }): string =>
  sentence(refusalWords(lang, r, o));

function refusalWords(lang: PageLang, r: Refusal, o: { today: string; status: Status }): string {
  const e = TEXT[lang].errors;
  const today = dateText(lang, o.today);
  switch (r.kind) {
    case 'stale':
      return e.stale;
    case 'status':
      return e.status(TEXT[lang].statuses[o.status]);
    case 'archived':
      return e.archived;
    case 'form':
      return e.form;
    case 'other':
      return e.generic;
    case 'field':
      switch (r.field) {
        case 'date':
          return e.date(today);
        case 'until':
          return e.until(today);
        case 'quantity':
          return e.quantity;
        case 'sku':
          return e.sku;
        case 'reason':
          return e.reason;
        case 'note':
          return e.note;
        default:
          return e.generic;
      }
  }
}

/** The confirmation of an action just done, from the subscription after it. */
export const doneText = (
  lang: PageLang,
  action: PageAction,
  s: SubscriptionDetail,
  productTitle: string,
): string => sentence(doneWords(lang, action, s, productTitle));

function doneWords(lang: PageLang, action: PageAction, s: SubscriptionDetail, productTitle: string): string {
  const d = TEXT[lang].done;
  const next = s.nextDeliveryLocal ? dateText(lang, s.nextDeliveryLocal) : '—';
  switch (action) {
    case 'skip':
      return d.skip(next);
    case 'reschedule':
      return d.reschedule(next);
    case 'pause':
      return d.pause(s.pausedUntil ? dateText(lang, s.pausedUntil) : next);
    case 'resume':
      return d.resume(next);
    case 'quantity':
      return d.quantity(s.quantity);
    case 'swap':
      return d.swap(productTitle);
    case 'cancel':
      return d.cancel;
    case 'reactivate':
      return d.reactivate(next);
  }
}

/** What the page shows: the subscription, what it may be swapped to, and the note of the last post. */
export interface ManageView {
  lang: PageLang;
  /** The token: forms post to it and links point at it, relative to `/m/`. */
  token: string;
  /** The subscription's version when the page was made: a form sent twice is refused the second time. */
  version: number;
  sub: SubscriptionDetail;
  planTitle: string;
  productTitle: string;
  /** Today's local date in the subscription's zone (YYYY-MM-DD), and tomorrow's. */
  today: string;
  tomorrow: string;
  /** Other products the plan sells, at their subscription price; empty: no swap offered. */
  swapTo: { sku: string; title: string; unitPriceMinor: number }[];
  /** The cancel page's pause choices. */
  pauses: { months: number; until: string }[];
  done?: string | undefined;
  /** A refusal, shown beside the form of `action` (or at the top when that form is not on the page). */
  error?: { action: PageAction | null; text: string; field?: string | undefined } | undefined;
  /** What the customer had typed, to fill the refused form again. */
  values?: Record<string, string> | undefined;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:34rem;margin:1.5rem auto;padding:0 1rem;line-height:1.45;color:#111}' +
  'h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin:0 0 .5rem}' +
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:1rem 0}dt{color:#555}dd{margin:0;font-weight:600}' +
  'section{border-top:1px solid #ddd;padding:1rem 0}fieldset{border:0;padding:0;margin:0}legend{font-weight:600;padding:0;margin-bottom:.4rem}' +
  'label{display:block;font-weight:600;margin:.4rem 0 .2rem}fieldset label{font-weight:400;display:flex;gap:.6rem;align-items:center;padding:.35rem 0}' +
  'input[type=date],input[type=number],select,textarea{font:inherit;padding:.55rem;width:100%;box-sizing:border-box;border:1px solid #888;border-radius:4px}' +
  'textarea{min-height:6rem}input[type=radio]{width:1.2rem;height:1.2rem;flex:none}' +
  'button,.button{display:inline-block;font:inherit;font-size:1rem;padding:.7rem 1.2rem;margin:.6rem .4rem 0 0;border:1px solid #111;border-radius:4px;background:#111;color:#fff;text-decoration:none;cursor:pointer}' +
  '.secondary{background:#fff;color:#111}.danger{background:#a11;border-color:#a11}' +
  '.note{background:#eef7ee;border-left:4px solid #2a7;padding:.6rem .8rem}.error{background:#fbeaea;border-left:4px solid #a11;padding:.6rem .8rem}' +
  '.hint,.private{color:#555;font-size:.9rem}';

function page(lang: PageLang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}

const esc = escapeHtml;

/** A form posting one action to the page's token. */
const form = (v: ManageView, action: PageAction, inner: string) =>
  `<form method="post" action="${esc(v.token)}"><input type="hidden" name="action" value="${action}"><input type="hidden" name="v" value="${v.version}">${inner}</form>`;

/** The refusal of `action`'s form, placed beside it; marks that it was shown. */
function errorOf(v: ManageView, action: PageAction, shown: { done: boolean }): string {
  if (!v.error || v.error.action !== action) return '';
  shown.done = true;
  return `<p class="error" role="alert" id="error-${action}">${esc(v.error.text)}</p>`;
}

/** The attributes of a field the refusal concerns. */
const invalidIf = (v: ManageView, action: PageAction, field: string) =>
  v.error?.action === action && v.error.field === field
    ? ` aria-invalid="true" aria-describedby="error-${action}"`
    : '';

const valueOf = (v: ManageView, action: PageAction, field: string, fallback = '') =>
  v.error?.action === action ? (v.values?.[field] ?? fallback) : fallback;

function summary(v: ManageView): string {
  const t = TEXT[v.lang];
  const s = v.sub;
  const rows: [string, string][] = [
    [t.status, t.statuses[s.status]],
    [t.product, v.productTitle],
    [t.quantity, String(s.quantity)],
    [
      t.price,
      s.quantity === 1
        ? `${moneyText(v.lang, s.unitPriceMinor, s.currency)} ${t.perDelivery}`
        : `${moneyText(v.lang, s.unitPriceMinor, s.currency)} × ${s.quantity} = ${moneyText(v.lang, s.unitPriceMinor * s.quantity, s.currency)} ${t.perDelivery}`,
    ],
    [t.every, t.interval(s.interval.every, s.interval.unit)],
  ];
  if (s.status === 'paused' && s.pausedUntil)
    rows.push([t.pausedUntil, dateText(v.lang, s.pausedUntil, true)]);
  else if (s.status === 'cancelled' && s.cancelledAt)
    rows.push([t.cancelledOn, dateText(v.lang, s.cancelledAt.slice(0, 10))]);
  else if (s.nextDeliveryLocal) {
    rows.push([t.next, dateText(v.lang, s.nextDeliveryLocal, true)]);
    const then = s.upcoming.slice(1, 4).map((u) => dateText(v.lang, u.localDate));
    if (then.length > 0) rows.push([t.then, then.join(', ')]);
  }
  return `<dl>${rows.map(([k, x]) => `<dt>${esc(k)}</dt><dd>${esc(x)}</dd>`).join('')}</dl>`;
}

const top = (v: ManageView, shown: { done: boolean }) =>
  (v.done ? `<p class="note" role="status">${esc(v.done)}</p>` : '') +
  (v.error && !shown.done ? `<p class="error" role="alert">${esc(v.error.text)}</p>` : '');

const section = (id: string, h: string, inner: string) =>
  `<section aria-labelledby="h-${id}"><h2 id="h-${id}">${esc(h)}</h2>${inner}</section>`;

/** The subscription and a form for each action its status allows. */
export function managePage(v: ManageView): string {
  const t = TEXT[v.lang];
  const s = v.sub;
  const shown = { done: false };
  const live = s.status === 'active' || s.status === 'past_due';
  const parts: string[] = [];
  if (s.status === 'active' && s.nextDeliveryLocal)
    parts.push(
      section(
        'skip',
        t.skip.h,
        errorOf(v, 'skip', shown) +
          form(
            v,
            'skip',
            `<p>${esc(t.skip.p(dateText(v.lang, s.nextDeliveryLocal)))}</p><button type="submit">${esc(t.skip.button)}</button>`,
          ),
      ),
    );
  if (s.status === 'active')
    parts.push(
      section(
        'reschedule',
        t.reschedule.h,
        errorOf(v, 'reschedule', shown) +
          form(
            v,
            'reschedule',
            `<label for="reschedule-date">${esc(t.reschedule.label)}</label><input type="date" id="reschedule-date" name="date" required min="${v.today}" value="${esc(valueOf(v, 'reschedule', 'date', s.nextDeliveryLocal ?? ''))}"${invalidIf(v, 'reschedule', 'date')}><button type="submit">${esc(t.reschedule.button)}</button>`,
          ),
      ),
    );
  if (live)
    parts.push(
      section(
        'pause',
        t.pause.h,
        errorOf(v, 'pause', shown) +
          form(
            v,
            'pause',
            `<label for="pause-until">${esc(t.pause.label)}</label><input type="date" id="pause-until" name="until" required min="${v.tomorrow}" aria-describedby="pause-hint" value="${esc(valueOf(v, 'pause', 'until'))}"${invalidIf(v, 'pause', 'until')}><p class="hint" id="pause-hint">${esc(t.pause.hint)}</p><button type="submit">${esc(t.pause.button)}</button>`,
          ),
      ),
    );
  if (s.status === 'paused')
    parts.push(
      section(
        'resume',
        t.resume.h,
        errorOf(v, 'resume', shown) +
          form(
            v,
            'resume',
            `<label for="resume-date">${esc(t.resume.label)}</label><input type="date" id="resume-date" name="date" min="${v.today}" value="${esc(valueOf(v, 'resume', 'date'))}"${invalidIf(v, 'resume', 'date')}><button type="submit">${esc(t.resume.button)}</button>`,
          ),
      ),
    );
  if (s.status !== 'cancelled') {
    parts.push(
      section(
        'quantity',
        t.changeQuantity.h,
        errorOf(v, 'quantity', shown) +
          form(
            v,
            'quantity',
            `<label for="quantity">${esc(t.changeQuantity.label)}</label><input type="number" id="quantity" name="quantity" required min="1" max="100" step="1" inputmode="numeric" value="${esc(valueOf(v, 'quantity', 'quantity', String(s.quantity)))}"${invalidIf(v, 'quantity', 'quantity')}><button type="submit">${esc(t.changeQuantity.button)}</button>`,
          ),
      ),
    );
    if (v.swapTo.length > 0)
      parts.push(
        section(
          'swap',
          t.swap.h,
          errorOf(v, 'swap', shown) +
            form(
              v,
              'swap',
              `<label for="swap-sku">${esc(t.swap.label)}</label><select id="swap-sku" name="sku" required${invalidIf(v, 'swap', 'sku')}>${v.swapTo
                .map(
                  (p) =>
                    `<option value="${esc(p.sku)}">${esc(`${p.title} — ${moneyText(v.lang, p.unitPriceMinor, s.currency)}`)}</option>`,
                )
                .join('')}</select><button type="submit">${esc(t.swap.button)}</button>`,
            ),
        ),
      );
    parts.push(
      section(
        'cancel',
        t.cancel.h,
        errorOf(v, 'cancel', shown) +
          `<p><a class="button secondary" href="${esc(v.token)}?view=cancel">${esc(t.cancel.link)}</a></p>`,
      ),
    );
  } else
    parts.push(
      section(
        'reactivate',
        t.reactivate.h,
        errorOf(v, 'reactivate', shown) +
          form(
            v,
            'reactivate',
            `<p>${esc(t.reactivate.p)}</p><label for="reactivate-date">${esc(t.reactivate.label)}</label><input type="date" id="reactivate-date" name="date" min="${v.today}" value="${esc(valueOf(v, 'reactivate', 'date'))}"${invalidIf(v, 'reactivate', 'date')}><button type="submit">${esc(t.reactivate.button)}</button>`,
          ),
      ),
    );
  const body = parts.join('');
  return page(
    v.lang,
    t.title,
    `<p>${esc(v.planTitle)}</p>${top(v, shown)}${summary(v)}${body}<p class="private">${esc(t.private)}</p>`,
  );
}

/** The cancel page: first a skip or a pause, then the reasons and the note. */
export function cancelPage(v: ManageView): string {
  const t = TEXT[v.lang];
  const c = t.cancelPage;
  const s = v.sub;
  const shown = { done: false };
  const offers: string[] = [];
  if (s.status === 'active' && s.nextDeliveryLocal)
    offers.push(
      errorOf(v, 'skip', shown) +
        form(
          v,
          'skip',
          `<button type="submit" class="secondary">${esc(c.skipButton(dateText(v.lang, s.nextDeliveryLocal)))}</button>`,
        ),
    );
  if (s.status === 'active' || s.status === 'past_due')
    offers.push(
      errorOf(v, 'pause', shown) +
        form(
          v,
          'pause',
          `<fieldset><legend>${esc(c.pauseLegend)}</legend>${v.pauses
            .map(
              (p) =>
                `<button type="submit" class="secondary" name="until" value="${p.until}">${esc(c.months(p.months, dateText(v.lang, p.until)))}</button>`,
            )
            .join('')}</fieldset>`,
        ),
    );
  const reasons = CancelReason.options
    .map((r) => {
      const checked = valueOf(v, 'cancel', 'reason') === r ? ' checked' : '';
      return `<label><input type="radio" name="reason" value="${r}" required${checked}>${esc(t.reasons[r])}</label>`;
    })
    .join('');
  const breakSection =
    offers.length > 0 ? section('break', c.breakH, `<p>${esc(c.breakP)}</p>${offers.join('')}`) : '';
  const cancelSection = section(
    'reasons',
    c.reasonsH,
    errorOf(v, 'cancel', shown) +
      form(
        v,
        'cancel',
        `<fieldset><legend>${esc(c.reasonsLegend)}</legend>${reasons}</fieldset><label for="cancel-note">${esc(c.note)}</label><textarea id="cancel-note" name="note" maxlength="2000"${invalidIf(v, 'cancel', 'note')}>${esc(valueOf(v, 'cancel', 'note'))}</textarea><button type="submit" class="danger">${esc(c.confirm)}</button>`,
      ),
  );
  return page(
    v.lang,
    c.title,
    `<p>${esc(v.planTitle)} · ${esc(v.productTitle)}</p>${top(v, shown)}${breakSection}${cancelSection}<p><a class="button secondary" href="${esc(v.token)}">${esc(c.keep)}</a></p>`,
  );
}

/** A link that is not valid (403), a subscription that is not there (404) or no longer available (410). */
export function refusedPage(lang: PageLang, kind: 'invalid' | 'gone' | 'missing'): string {
  const [title, body] = TEXT[lang].refused[kind];
  return page(lang, title, `<p>${esc(body)}</p>`);
}
