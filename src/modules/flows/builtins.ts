/**
 * The built-in flows (docs/flows.md#built-in-flows): ten ready definitions with their messages in
 * English, Ukrainian and Russian (and the surveys their survey steps name). `retain flows install <key>` /
 * `POST /v1/flow-templates/{key}/install` saves the messages (unless the store has templates of those
 * names already), the surveys (unless the store has surveys of those names) and the flow as a draft, to
 * be read, simulated and activated.
 */

type Locale = 'en' | 'uk' | 'ru';
type Text = Record<Locale, string>;

/** One message of a built-in flow: a subject, paragraphs and a button, per language. */
interface Message {
  name: string;
  subject: Text;
  paragraphs: Text[];
  /** A button to the shop (its address given at install). */
  button?: { text: Text };
  /** Liquid placed before the button (a code, a product list). */
  extra?: Text;
}

/**
 * A survey a built-in flow's survey step names, saved at install when the store has none of that name
 * (its wording: the surveys' defaults in en, uk and ru). `lowScore`: the call task of a low score, given
 * to the installing user when there is one (else the survey makes no tasks until an assignee is set).
 */
export interface BuiltinSurvey {
  name: string;
  kind: 'nps' | 'csat';
  throttleDays: number;
  lowScore: { atMost: number; slaHours: number };
}

export interface BuiltinFlow {
  key: string;
  title: string;
  description: string;
  definition: Record<string, unknown>;
  messages: Message[];
  /** The surveys its survey steps name (none for most). */
  surveys?: BuiltinSurvey[];
}

const HELLO: Text = {
  en: 'Hello{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!',
  uk: 'Вітаємо{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!',
  ru: 'Здравствуйте{% if customer.first_name %}, {{ customer.first_name }}{% endif %}!',
};
const SHOP: Text = { en: 'Visit the shop', uk: 'До магазину', ru: 'В магазин' };
const UNSUBSCRIBE: Text = { en: 'Unsubscribe', uk: 'Відписатися', ru: 'Отписаться' };
const CODE: Text = {
  en: '<p>Your code: <b>{{ discount_code }}</b> — {{ offer.value_text }} off until {{ offer.expires_on }}.</p>',
  uk: '<p>Ваш код: <b>{{ discount_code }}</b> — знижка {{ offer.value_text }} до {{ offer.expires_on }}.</p>',
  ru: '<p>Ваш код: <b>{{ discount_code }}</b> — скидка {{ offer.value_text }} до {{ offer.expires_on }}.</p>',
};
const RECOMMENDED: Text = {
  en: '{% if recommendations.size > 0 %}<p>Picked for you:</p><ul>{% for r in recommendations %}<li>{{ r.title }}{% if r.price %} — {{ r.price }}{% endif %}</li>{% endfor %}</ul>{% endif %}',
  uk: '{% if recommendations.size > 0 %}<p>Ми обрали для вас:</p><ul>{% for r in recommendations %}<li>{{ r.title }}{% if r.price %} — {{ r.price }}{% endif %}</li>{% endfor %}</ul>{% endif %}',
  ru: '{% if recommendations.size > 0 %}<p>Мы подобрали для вас:</p><ul>{% for r in recommendations %}<li>{{ r.title }}{% if r.price %} — {{ r.price }}{% endif %}</li>{% endfor %}</ul>{% endif %}',
};

const t = (en: string, uk: string, ru: string): Text => ({ en, uk, ru });

export const BUILTIN_FLOWS: readonly BuiltinFlow[] = [
  {
    key: 'welcome',
    title: 'Welcome series',
    description:
      'Three emails to a new subscriber: a welcome at once, picks two days later at 10:00 their time, and a first-order code three days after that if they have not ordered. Ends on the first order.',
    definition: {
      trigger: { event: 'consent.changed', where: { channel: 'email', to: 'granted' } },
      goal: { event: 'order.placed' },
      reentry: { kind: 'once' },
      holdoutShare: 0.1,
      steps: [
        { id: 'hello', send: { template: 'welcome-1' } },
        { id: 'two-days', wait: { days: 2 } },
        { id: 'morning', waitUntil: { localTime: '10:00' } },
        { id: 'picks', send: { template: 'welcome-2' } },
        // welcome-2 went at 10:00 local: 60 hours on is the evening two days later (22:00, or 21:00/23:00
        // across a daylight saving change), so the next 10:00 is three days after it. A 72-hour wait would
        // end at 10:00 (or 11:00), and the next 10:00 after that is on the fourth day.
        { id: 'day-three', wait: { days: 2, hours: 12 } },
        { id: 'morning-2', waitUntil: { localTime: '10:00' } },
        {
          id: 'no-order-yet',
          branch: { if: { field: 'orders', op: 'eq', value: 0 }, then: 'first-order', else: 'exit' },
        },
        {
          id: 'first-order',
          send: {
            template: 'welcome-3',
            offer: { kind: 'percent', value: 10, prefix: 'HELLO-', validDays: 14 },
          },
        },
      ],
    },
    messages: [
      {
        name: 'welcome-1',
        // The store's name when it has set one (retain store set --name); without it the subject stands alone.
        subject: t(
          'Welcome{% if store.name %} to {{ store.name }}{% endif %}',
          'Вітаємо{% if store.name %} в {{ store.name }}{% endif %}',
          'Добро пожаловать{% if store.name %} в {{ store.name }}{% endif %}',
        ),
        paragraphs: [
          HELLO,
          t(
            'Thank you for subscribing. We will write rarely and only with what is worth it.',
            'Дякуємо за підписку. Писатимемо рідко й лише про варте уваги.',
            'Спасибо за подписку. Будем писать редко и только о стоящем.',
          ),
        ],
        button: { text: SHOP },
      },
      {
        name: 'welcome-2',
        subject: t('Our customers’ favourites', 'Улюблене наших покупців', 'Любимое наших покупателей'),
        paragraphs: [
          HELLO,
          t(
            'Here is what others choose most.',
            'Ось що обирають найчастіше.',
            'Вот что выбирают чаще всего.',
          ),
        ],
        extra: RECOMMENDED,
      },
      {
        name: 'welcome-3',
        subject: t(
          'A gift for your first order',
          'Подарунок до першого замовлення',
          'Подарок к первому заказу',
        ),
        paragraphs: [
          HELLO,
          t(
            'Here is a code for your first order.',
            'Ось код на перше замовлення.',
            'Вот код на первый заказ.',
          ),
        ],
        extra: CODE,
      },
    ],
  },
  {
    key: 'abandoned-checkout',
    title: 'Abandoned checkout',
    description:
      'A checkout started and no order: a reminder after 1 hour, another at 24 hours, and at 72 hours a code. Ends on an order; again at most once a week.',
    definition: {
      trigger: { event: 'event.tracked', eventType: 'checkout_started' },
      goal: { event: 'order.placed' },
      reentry: { kind: 'after', days: 7 },
      holdoutShare: 0.1,
      steps: [
        { id: 'hour', wait: { hours: 1 } },
        { id: 'first', send: { template: 'abandoned-checkout-1' } },
        { id: 'day', wait: { hours: 23 } },
        { id: 'second', send: { template: 'abandoned-checkout-2' } },
        { id: 'two-days', wait: { hours: 48 } },
        {
          id: 'third',
          send: {
            template: 'abandoned-checkout-3',
            offer: { kind: 'percent', value: 10, prefix: 'CART-', validDays: 3 },
          },
        },
      ],
    },
    messages: [
      {
        name: 'abandoned-checkout-1',
        subject: t('You left something behind', 'Ви дещо забули', 'Вы кое-что забыли'),
        paragraphs: [
          HELLO,
          t('Your order is waiting for you.', 'Ваше замовлення чекає на вас.', 'Ваш заказ ждёт вас.'),
        ],
        button: { text: t('Finish the order', 'Завершити замовлення', 'Завершить заказ') },
      },
      {
        name: 'abandoned-checkout-2',
        subject: t('Still thinking?', 'Ще думаєте?', 'Ещё думаете?'),
        paragraphs: [
          HELLO,
          t(
            'If something stopped you, just reply to this email and we will help.',
            'Якщо вас щось зупинило, просто дайте відповідь на цей лист — ми допоможемо.',
            'Если вас что-то остановило, просто ответьте на это письмо — мы поможем.',
          ),
        ],
        button: { text: t('Finish the order', 'Завершити замовлення', 'Завершить заказ') },
      },
      {
        name: 'abandoned-checkout-3',
        subject: t(
          'A code to finish your order',
          'Код, щоб завершити замовлення',
          'Код, чтобы завершить заказ',
        ),
        paragraphs: [HELLO, t('Here is a little help.', 'Трохи допомоги від нас.', 'Немного помощи от нас.')],
        extra: CODE,
      },
    ],
  },
  {
    key: 'browse-abandonment',
    title: 'Browse abandonment',
    description:
      'A product viewed and nothing added to the cart within 2 hours: one email with picks. A cart added in time hands over to the abandoned-checkout flow. At most once every two weeks.',
    definition: {
      trigger: { event: 'event.tracked', eventType: 'view' },
      goal: { event: 'order.placed' },
      reentry: { kind: 'after', days: 14 },
      holdoutShare: 0.1,
      steps: [
        {
          id: 'cart-within',
          waitFor: {
            event: { event: 'event.tracked', eventType: 'add_to_cart' },
            within: { hours: 2 },
            onTimeout: 'remind',
          },
        },
        { id: 'carted', exit: {} },
        { id: 'remind', send: { template: 'browse-abandonment-1' } },
      ],
    },
    messages: [
      {
        name: 'browse-abandonment-1',
        subject: t('Saw something you liked?', 'Щось сподобалось?', 'Что-то понравилось?'),
        paragraphs: [
          HELLO,
          t(
            'You were looking around — here is more of it.',
            'Ви дивилися — ось ще варте уваги.',
            'Вы присматривались — вот ещё стоящее.',
          ),
        ],
        extra: RECOMMENDED,
      },
    ],
  },
  {
    key: 'post-purchase',
    title: 'Post-purchase cross-sell',
    description:
      'Three days after an order, at 10:00 their time: what is frequently bought together with what they bought (the recommender at send time). At most once a month.',
    definition: {
      trigger: { event: 'order.placed' },
      reentry: { kind: 'after', days: 30 },
      holdoutShare: 0.1,
      steps: [
        { id: 'three-days', wait: { days: 3 } },
        { id: 'morning', waitUntil: { localTime: '10:00' } },
        { id: 'together', send: { template: 'post-purchase-1' } },
      ],
    },
    messages: [
      {
        name: 'post-purchase-1',
        // The recommender may have nothing (a new store, a product nobody bought with others): then the
        // message is a thank-you, not a lead-in to an empty list.
        subject: t(
          '{% if recommendations.size > 0 %}Goes well with your order{% else %}Thank you for your order{% endif %}',
          '{% if recommendations.size > 0 %}Пасує до вашого замовлення{% else %}Дякуємо за ваше замовлення{% endif %}',
          '{% if recommendations.size > 0 %}Подойдёт к вашему заказу{% else %}Спасибо за ваш заказ{% endif %}',
        ),
        paragraphs: [
          HELLO,
          t(
            'Thank you for your order — we hope you enjoy it.',
            'Дякуємо за замовлення — сподіваємося, вам сподобається.',
            'Спасибо за заказ — надеемся, вам понравится.',
          ),
        ],
        extra: {
          en: '{% if recommendations.size > 0 %}<p>Customers who bought what you did also took:</p><ul>{% for r in recommendations %}<li>{{ r.title }}{% if r.price %} — {{ r.price }}{% endif %}{% if r.because_of %} (with {{ r.because_of }}){% endif %}</li>{% endfor %}</ul>{% endif %}',
          uk: '{% if recommendations.size > 0 %}<p>Разом із цим часто беруть:</p><ul>{% for r in recommendations %}<li>{{ r.title }}{% if r.price %} — {{ r.price }}{% endif %}{% if r.because_of %} (до {{ r.because_of }}){% endif %}</li>{% endfor %}</ul>{% endif %}',
          ru: '{% if recommendations.size > 0 %}<p>Вместе с этим часто берут:</p><ul>{% for r in recommendations %}<li>{{ r.title }}{% if r.price %} — {{ r.price }}{% endif %}{% if r.because_of %} (к {{ r.because_of }}){% endif %}</li>{% endfor %}</ul>{% endif %}',
        },
      },
    ],
  },
  {
    key: 'replenishment',
    title: 'Replenishment',
    description:
      'A product is due again: its median repurchase interval across the store (at least 5 repeat purchases) less 3 days has passed since the customer last bought it. One email at 10:00 their time; ends on an order.',
    definition: {
      trigger: { time: { kind: 'replenishment', daysBefore: 3, minRepeats: 5 } },
      goal: { event: 'order.placed' },
      reentry: { kind: 'always' },
      steps: [
        { id: 'morning', waitUntil: { localTime: '10:00' } },
        { id: 'due', send: { template: 'replenishment-1' } },
      ],
    },
    messages: [
      {
        name: 'replenishment-1',
        subject: t(
          'Time for more {{ flow.product.title }}?',
          'Час поповнити {{ flow.product.title }}?',
          'Пора пополнить {{ flow.product.title }}?',
        ),
        paragraphs: [
          HELLO,
          t(
            'You usually need {{ flow.product.title }} again about every {{ flow.interval_days }} days.',
            '{{ flow.product.title }} зазвичай закінчується приблизно за {{ flow.interval_days }} днів.',
            '{{ flow.product.title }} обычно заканчивается примерно за {{ flow.interval_days }} дней.',
          ),
        ],
        button: { text: t('Order again', 'Замовити ще', 'Заказать ещё') },
      },
    ],
  },
  {
    key: 'win-back',
    title: 'Win-back',
    description:
      'P(alive) (BG/NBD) fell below 0.3 for a customer who ordered within the last year: picks at 10:00 their time, then a code a week later. Ends on an order; once per last order.',
    definition: {
      trigger: { time: { kind: 'pAliveBelow', threshold: 0.3, maxDaysSinceOrder: 365 } },
      goal: { event: 'order.placed' },
      reentry: { kind: 'always' },
      holdoutShare: 0.1,
      steps: [
        { id: 'morning', waitUntil: { localTime: '10:00' } },
        { id: 'miss-you', send: { template: 'win-back-1' } },
        { id: 'week', wait: { days: 7 } },
        {
          id: 'code',
          send: {
            template: 'win-back-2',
            offer: { kind: 'percent', value: 15, prefix: 'BACK-', validDays: 14 },
          },
        },
      ],
    },
    messages: [
      {
        name: 'win-back-1',
        subject: t('We miss you', 'Ми сумуємо', 'Мы скучаем'),
        paragraphs: [
          HELLO,
          t(
            'A lot is new since your last visit.',
            'Відколи ви заходили, багато нового.',
            'С вашего прошлого визита много нового.',
          ),
        ],
        extra: RECOMMENDED,
      },
      {
        name: 'win-back-2',
        subject: t('A code to come back', 'Код, щоб повернутися', 'Код, чтобы вернуться'),
        paragraphs: [
          HELLO,
          t('Come back with this code.', 'Повертайтеся з цим кодом.', 'Возвращайтесь с этим кодом.'),
        ],
        extra: CODE,
      },
    ],
  },
  {
    key: 'birthday',
    title: 'Birthday',
    description:
      'On the customer’s birthday (their own zone; 29 February on the 28th in other years), at 09:00: greetings and a code valid a week. Every year.',
    definition: {
      trigger: { time: { kind: 'birthday', daysBefore: 0 } },
      reentry: { kind: 'always' },
      steps: [
        { id: 'morning', waitUntil: { localTime: '09:00' } },
        {
          id: 'greet',
          send: {
            template: 'birthday-1',
            offer: { kind: 'percent', value: 10, prefix: 'BDAY-', validDays: 7 },
          },
        },
      ],
    },
    messages: [
      {
        name: 'birthday-1',
        subject: t('Happy birthday!', 'З днем народження!', 'С днём рождения!'),
        paragraphs: [
          HELLO,
          t(
            'Have a wonderful day — and a gift from us.',
            'Гарного свята — і подарунок від нас.',
            'Прекрасного праздника — и подарок от нас.',
          ),
        ],
        extra: CODE,
      },
    ],
  },
  {
    key: 'points-expiring',
    title: 'Points expiring',
    description:
      'Loyalty points expire within 7 days: one reminder at 10:00 their time with how many and when. Once per expiry day.',
    definition: {
      trigger: { time: { kind: 'pointsExpire', withinDays: 7 } },
      reentry: { kind: 'always' },
      steps: [
        { id: 'morning', waitUntil: { localTime: '10:00' } },
        { id: 'remind', send: { template: 'points-expiring-1' } },
      ],
    },
    messages: [
      {
        name: 'points-expiring-1',
        subject: t(
          '{{ flow.points }} points expire soon',
          '{{ flow.points }} балів скоро згорять',
          '{{ flow.points }} баллов скоро сгорят',
        ),
        paragraphs: [
          HELLO,
          t(
            '{{ flow.points }} of your {{ flow.balance }} points expire on {{ flow.expires_at | date_tz: store.time_zone, "date" }}. Spend them on your next order.',
            '{{ flow.points }} з ваших {{ flow.balance }} балів згорять {{ flow.expires_at | date_tz: store.time_zone, "date" }}. Використайте їх у наступному замовленні.',
            '{{ flow.points }} из ваших {{ flow.balance }} баллов сгорят {{ flow.expires_at | date_tz: store.time_zone, "date" }}. Потратьте их в следующем заказе.',
          ),
        ],
        button: { text: SHOP },
      },
    ],
  },
  {
    key: 'tier-upgrade',
    title: 'Tier upgrade',
    description:
      'A member moved up a loyalty tier: congratulations at once, naming the new tier. Every upgrade.',
    definition: {
      trigger: { event: 'tier.changed', where: { direction: 'up' } },
      reentry: { kind: 'always' },
      steps: [{ id: 'congratulate', send: { template: 'tier-upgrade-1' } }],
    },
    messages: [
      {
        name: 'tier-upgrade-1',
        subject: t(
          'Welcome to {{ flow.event.to }}',
          'Вітаємо на рівні {{ flow.event.to }}',
          'Добро пожаловать на уровень {{ flow.event.to }}',
        ),
        paragraphs: [
          HELLO,
          t(
            'You are now {{ flow.event.to }}: thank you for staying with us.',
            'Тепер ваш рівень — {{ flow.event.to }}. Дякуємо, що ви з нами.',
            'Теперь ваш уровень — {{ flow.event.to }}. Спасибо, что вы с нами.',
          ),
        ],
        button: { text: SHOP },
      },
    ],
  },
  {
    key: 'survey-after-delivery',
    title: 'Survey after delivery',
    description:
      'Five days after an order (the usual delivery), at 11:00 their time: the after-delivery survey — how likely are they to recommend us, 0–10, one click in the email, then why. At most once a month.',
    definition: {
      trigger: { event: 'order.placed' },
      reentry: { kind: 'after', days: 30 },
      steps: [
        { id: 'delivered', wait: { days: 5 } },
        { id: 'late-morning', waitUntil: { localTime: '11:00' } },
        { id: 'ask', survey: { name: 'after-delivery' } },
      ],
    },
    // The survey's own invitation template (survey-after-delivery, saved with the survey) is the message.
    messages: [],
    surveys: [
      { name: 'after-delivery', kind: 'nps', throttleDays: 30, lowScore: { atMost: 6, slaHours: 24 } },
    ],
  },
];

/**
 * The messaging template of one built-in message (MJML, one variant per language); its button links to
 * `shopUrl` (left out when the store has given none).
 */
export function templateOf(m: Message, shopUrl: string | null): Record<string, unknown> {
  const locales: Locale[] = ['en', 'uk', 'ru'];
  return {
    name: m.name,
    channel: 'email',
    kind: 'marketing',
    variants: locales.map((l) => ({
      locale: l,
      subject: m.subject[l],
      body: [
        `<mjml><mj-body><mj-section><mj-column>`,
        ...m.paragraphs.map((p) => `<mj-text>${p[l]}</mj-text>`),
        ...(m.extra ? [`<mj-text>${m.extra[l]}</mj-text>`] : []),
        ...(m.button && shopUrl
          ? [`<mj-button href="${escapeAttr(shopUrl)}">${m.button.text[l]}</mj-button>`]
          : []),
        `<mj-text font-size="11px"><a href="{{ unsubscribe_url }}">${UNSUBSCRIBE[l]}</a></mj-text>`,
        `</mj-column></mj-section></mj-body></mjml>`,
      ].join(''),
    })),
  };
}

const escapeAttr = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
