import { Liquid } from 'liquidjs';
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../../shared/errors.js';
import { parseTemplateSource, type TemplateSource, type TemplateVars } from './templateSchema.js';
import { compileTemplate, pickLocale, renderTemplate, SAMPLE_TEMPLATE_VARS } from './templates.js';

/** Intl separates groups and units with (narrow) no-break spaces; compare with plain ones. */
const sp = (s: string | undefined) => (s ?? '').replace(/[\u00a0\u202f]/g, ' ');

/** The AppError a promise or a function rejects with. */
async function failure(f: () => unknown): Promise<AppError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an error');
}

const mjml = (content: string, head = '') => `<mjml>
  <mj-head>${head}</mj-head>
  <mj-body>
${content}
  </mj-body>
</mjml>`;

const section = (text: string) =>
  `    <mj-section><mj-column><mj-text>${text}</mj-text></mj-column></mj-section>`;

const unsubscribe = `    <mj-section><mj-column><mj-button href="{{ unsubscribe_url }}">Unsubscribe</mj-button></mj-column></mj-section>`;

function email(
  variants: TemplateSource['variants'],
  kind: TemplateSource['kind'] = 'marketing',
): TemplateSource {
  return { name: 'welcome', channel: 'email', kind, variants };
}

const vars: TemplateVars = {
  customer: {
    first_name: 'Olena',
    last_name: 'Kovalenko',
    email: 'olena@example.com',
    phone: null,
    locale: 'uk-UA',
    external_id: 'C-1',
  },
  store: { name: 'Kvitka', currency: 'UAH', time_zone: 'Europe/Kyiv' },
  unsubscribe_url: 'https://shop.example/u/abc?c=1&t=2',
  preferences_url: 'https://shop.example/p/abc',
  discount_code: null,
  recommendations: [],
  points: null,
  tier: null,
};

describe('TemplateSource', () => {
  it('names the JSON path of each fault', () => {
    const dup = failure(() =>
      parseTemplateSource(
        email([
          { locale: 'uk', subject: 's', body: '<mjml></mjml>' },
          { locale: 'uk', subject: 's', body: '<mjml></mjml>' },
        ]),
      ),
    );
    return dup.then((e) => {
      expect(e.code).toBe('validation');
      expect(e.message).toMatch(
        /^invalid template: variants\[1\]\.locale: 'uk' is already the locale of variants\[0\]/,
      );
      expect(e.where).toEqual({ field: 'variants[1].locale' });
    });
  });

  it('wants a subject for email only, a language tag, and at least one variant', async () => {
    const noSubject = await failure(() =>
      parseTemplateSource(email([{ locale: 'en', body: '<mjml></mjml>' }])),
    );
    expect(noSubject.where?.field).toBe('variants[0].subject');
    expect(noSubject.message).toContain('is required for email');

    const smsSubject = await failure(() =>
      parseTemplateSource({
        name: 'sms',
        channel: 'sms',
        kind: 'transactional',
        variants: [
          { locale: 'en', body: 'hi' },
          { locale: 'uk', body: 'привіт', subject: 'x' },
        ],
      }),
    );
    expect(smsSubject.where?.field).toBe('variants[1].subject');
    expect(smsSubject.message).toContain('is for email only');

    for (const locale of ['UK', 'english', 'uk_UA', 'en-us', '']) {
      const bad = await failure(() => parseTemplateSource(email([{ locale, subject: 's', body: 'b' }])));
      expect(bad.where?.field).toBe('variants[0].locale');
    }
    for (const locale of ['pl', 'uk-UA', 'pt-BR', 'es-419'])
      expect(parseTemplateSource(email([{ locale, subject: 's', body: 'b' }])).variants[0]?.locale).toBe(
        locale,
      );

    const none = await failure(() => parseTemplateSource(email([])));
    expect(none.where?.field).toBe('variants');
    const extra = await failure(() =>
      parseTemplateSource({ ...email([{ locale: 'en', subject: 's', body: 'b' }]), x: 1 }),
    );
    expect(extra.message).toContain('x');
  });
});

describe('pickLocale', () => {
  it('takes the exact locale, then its language, the store default, en, the first', () => {
    const all = ['uk', 'ru', 'en', 'pt-BR'];
    expect(pickLocale(all, 'ru')).toBe('ru');
    expect(pickLocale(all, 'uk-UA')).toBe('uk');
    expect(pickLocale(all, 'uk_ua')).toBe('uk');
    expect(pickLocale(all, 'pt')).toBe('pt-BR');
    expect(pickLocale(all, 'PT-br')).toBe('pt-BR');
    expect(pickLocale(all, 'pl', 'ru')).toBe('ru');
    expect(pickLocale(all, 'pl', 'ru-RU')).toBe('ru');
    expect(pickLocale(all, 'pl')).toBe('en');
    expect(pickLocale(all, null, 'de')).toBe('en');
    expect(pickLocale(['uk', 'ru'], 'pl', 'de')).toBe('uk');
    expect(pickLocale(['uk', 'ru'], undefined)).toBe('uk');
  });
});

describe('compileTemplate and renderTemplate: email', () => {
  const welcome = email([
    {
      locale: 'uk',
      subject: 'Вітаємо, {{ customer.first_name }}!',
      body: mjml(
        `${section('Привіт, {{ customer.first_name }}! Ваш бонус: {{ 50000 | money }}')}\n${unsubscribe}`,
      ),
    },
    {
      locale: 'ru',
      subject: 'Здравствуйте, {{ customer.first_name }}!',
      body: mjml(
        `${section('Привет, {{ customer.first_name }}! Ваш бонус: {{ 50000 | money }}')}\n${unsubscribe}`,
      ),
    },
    {
      locale: 'en',
      subject: 'Welcome, {{ customer.first_name }}!',
      body: mjml(
        `${section('Hello {{ customer.first_name }}! Your bonus: {{ 50000 | money }}')}\n${unsubscribe}`,
      ),
      text: 'Hello {{ customer.first_name }}, unsubscribe: {{ unsubscribe_url }}',
    },
  ]);

  it('renders the recipient locale, falling back by language, store default and en', async () => {
    const c = await compileTemplate(welcome);
    expect(c.format).toBe(1);
    expect(c.variants.map((v) => [v.locale, v.textFrom])).toEqual([
      ['uk', 'derived'],
      ['ru', 'derived'],
      ['en', 'source'],
    ]);

    const uk = renderTemplate(c, 'uk-UA', vars);
    expect(uk.locale).toBe('uk');
    expect(uk.subject).toBe('Вітаємо, Olena!');
    expect(uk.html).toContain('<html lang="uk"');
    expect(sp(uk.html)).toContain('Привіт, Olena! Ваш бонус: 500,00 ₴');
    expect(sp(uk.text)).toBe(
      'Привіт, Olena! Ваш бонус: 500,00 ₴\n\nUnsubscribe [https://shop.example/u/abc?c=1&t=2]',
    );

    const ru = renderTemplate(c, 'ru', vars);
    expect([ru.locale, ru.subject]).toEqual(['ru', 'Здравствуйте, Olena!']);
    expect(sp(ru.text)).toContain('Ваш бонус: 500,00 ₴');

    expect(renderTemplate(c, 'pl', vars, { storeLocale: 'ru' }).locale).toBe('ru');
    const en = renderTemplate(c, 'pl', vars);
    expect(en.locale).toBe('en');
    expect(en.subject).toBe('Welcome, Olena!');
    expect(en.text).toBe('Hello Olena, unsubscribe: https://shop.example/u/abc?c=1&t=2');
    expect(sp(en.html)).toContain('Your bonus: UAH 500.00');
  });

  it('keeps {{ }} in an attribute through MJML and escapes it for HTML', async () => {
    const c = await compileTemplate(welcome);
    const { html } = renderTemplate(c, 'en', vars);
    expect(html).toContain('href="https://shop.example/u/abc?c=1&amp;t=2"');
    expect(c.variants[0]?.html).toContain('href="{{ unsubscribe_url }}"');
  });

  it('escapes values in the HTML, not in the subject or the text', async () => {
    const c = await compileTemplate(welcome);
    const r = renderTemplate(c, 'uk', { ...vars, customer: { first_name: '<b>Tom & "Jerry"</b>' } });
    expect(r.html).toContain('Привіт, &lt;b&gt;Tom &amp; &#34;Jerry&#34;&lt;/b&gt;!');
    expect(r.html).not.toContain('<b>Tom');
    expect(r.subject).toBe('Вітаємо, <b>Tom & "Jerry"</b>!');
    expect(r.text).toContain('Привіт, <b>Tom & "Jerry"</b>!');
  });

  it('renders unknown variables empty, and strictly names them with the line the author wrote', async () => {
    const c = await compileTemplate(
      email([
        {
          locale: 'en',
          subject: 'Hi {{ customer.nick }}',
          body: mjml(`${unsubscribe}\n${section('Dear\n       {{ customer.nick }}!')}`),
        },
      ]),
    );
    const r = renderTemplate(c, 'en', vars);
    expect(r.subject).toBe('Hi');
    expect(r.html).toContain('Dear\n       !');

    const e = await failure(() =>
      renderTemplate(c, 'en', { ...vars, customer: { first_name: 'x' } }, { strict: true }),
    );
    expect(e.message).toContain('undefined variable: customer.nick');
    expect(e.where?.field).toBe('variants[0].subject');

    // The HTML's error is reported at the body's line 6, column 11, not at a line of MJML's output.
    const body = await failure(() =>
      renderTemplate(
        { ...c, variants: c.variants.map((v) => ({ ...v, subject: 'Hi' })), key: 'f'.repeat(64) },
        'en',
        vars,
        { strict: true },
      ),
    );
    expect(body.message).toBe(
      "template 'welcome', variant en (variants[0].body) line 6, column 11: undefined variable: customer.nick",
    );
    expect(body.where).toEqual({ field: 'variants[0].body', line: 6, column: 11 });
  });

  it('reports a Liquid error in the body with its line and column', async () => {
    const body = '<mjml>\n  <mj-body>\n      {% if x %}\n  </mj-body>\n</mjml>';
    const e = await failure(() => compileTemplate(email([{ locale: 'uk', subject: 's', body }])));
    expect(e.message).toBe(
      "template 'welcome', variant uk (variants[0].body) line 3, column 7: tag {% if x %} not closed",
    );
    expect(e.where).toEqual({ field: 'variants[0].body', line: 3, column: 7 });

    const filter = await failure(() =>
      compileTemplate(email([{ locale: 'en', subject: 's', body: mjml(section('{{ 1 | nope }}')) }])),
    );
    expect(filter.message).toContain('undefined filter: nope');
    expect(filter.where).toMatchObject({ line: 4, column: 37 });
  });

  it('reports a Liquid error in the subject and in the text part', async () => {
    const subject = await failure(() =>
      compileTemplate(email([{ locale: 'en', subject: 'Hi {% if customer %}', body: mjml(unsubscribe) }])),
    );
    expect(subject.where).toEqual({ field: 'variants[0].subject', line: 1, column: 4 });
    expect(subject.message).toContain(
      'variant en (variants[0].subject) line 1, column 4: tag {% if customer %} not closed',
    );

    const text = await failure(() =>
      compileTemplate(
        email([
          { locale: 'en', subject: 'ok', body: mjml(unsubscribe) },
          {
            locale: 'uk',
            subject: 'ok',
            body: mjml(unsubscribe),
            text: 'line one\n{{ a | }} {{ b | nope }}',
          },
        ]),
      ),
    );
    expect(text.where).toEqual({ field: 'variants[1].text', line: 2, column: 11 });
    expect(text.message).toContain('undefined filter: nope');
  });

  it('reports an MJML error with its line and how many more there are', async () => {
    const body = mjml(
      `    <mj-section>\n      <mj-column>\n        <mj-text foo="1">x</mj-text>\n        <mj-bogus />\n      </mj-column>\n    </mj-section>`,
    );
    const e = await failure(() => compileTemplate(email([{ locale: 'ru', subject: 's', body }])));
    expect(e.message).toBe(
      "template 'welcome', variant ru (variants[0].body) line 6: MJML <mj-text>: Attribute foo is illegal (and 1 more MJML error)",
    );
    expect(e.where).toEqual({ field: 'variants[0].body', line: 6 });
    expect((e.details as { mjmlErrors: unknown[] }).mjmlErrors).toHaveLength(2);

    const notMjml = await failure(() =>
      compileTemplate(email([{ locale: 'en', subject: 's', body: '<p>Hi</p>' }])),
    );
    expect(notMjml.message).toContain('an email body is an MJML document');
    const include = await failure(() =>
      compileTemplate(
        email([{ locale: 'en', subject: 's', body: mjml('    <mj-include path="/etc/passwd" />') }]),
      ),
    );
    expect(include.message).toContain('<mj-include> is not available');
    expect(include.where).toMatchObject({ line: 4, column: 5 });
  });

  it('refuses a tag MJML would drop, and renders the <mj-raw> pattern around whole sections', async () => {
    const dropped = await failure(() =>
      compileTemplate(
        email([
          {
            locale: 'en',
            subject: 's',
            body: mjml(
              `${unsubscribe}\n    {% for r in recommendations %}\n${section('{{ r.title }}')}\n    {% endfor %}`,
            ),
          },
        ]),
      ),
    );
    expect(dropped.message).toContain('{% for r in recommendations %} is where MJML drops it');
    expect(dropped.where).toEqual({ field: 'variants[0].body', line: 5, column: 5 });

    const c = await compileTemplate(
      email([
        {
          locale: 'en',
          subject: 's',
          body: mjml(
            `${unsubscribe}
    <mj-raw>{% if discount_code %}</mj-raw>
${section('Your code: <b>{{ discount_code }}</b>')}
    <mj-raw>{% endif %}</mj-raw>
${section('<ul>{% for r in recommendations %}<li>{{ r.title }}</li>{% endfor %}</ul>')}`,
          ),
        },
      ]),
    );
    // Dropping the section drops whole tables, Outlook conditional comments included.
    const count = (html: string, s: string) => html.split(s).length - 1;
    const msoBalanced = (html: string) =>
      count(html, '<!--[if') === count(html, '<![endif]-->') &&
      count(html, '<table') === count(html, '</table>') &&
      count(html, '<div') === count(html, '</div>');
    const off = renderTemplate(c, 'en', vars);
    expect(off.html).not.toContain('Your code');
    expect(off.text).not.toContain('Your code');
    const on = renderTemplate(c, 'en', {
      ...vars,
      discount_code: 'SPRING-10',
      recommendations: [
        { sku: 'a', title: 'Linen shirt' },
        { sku: 'b', title: 'Tote' },
      ],
    });
    expect(on.html).toContain('Your code: <b>SPRING-10</b>');
    expect(on.html).toContain('<li>Linen shirt</li><li>Tote</li>');
    expect(on.text).toBe(
      'Unsubscribe [https://shop.example/u/abc?c=1&t=2]\n\nYour code: SPRING-10\n\n * Linen shirt\n * Tote',
    );
    expect(msoBalanced(on.html ?? '')).toBe(true);
    expect(msoBalanced(off.html ?? '')).toBe(true);
    expect(off.html?.split('<table').length).toBeLessThan(on.html?.split('<table').length ?? 0);
  });

  it('derives the text from each rendered HTML when a tag sits where the conversion drops it', async () => {
    const c = await compileTemplate(
      email(
        [
          {
            locale: 'en',
            subject: 's',
            body: mjml(
              `    <mj-section><mj-column>
      <mj-image src="https://cdn.example/{% if tier %}gold{% else %}plain{% endif %}.png" alt="badge" />
      <mj-text>Points: {{ points | default: 0 }}</mj-text>
    </mj-column></mj-section>`,
            ),
          },
        ],
        'transactional',
      ),
    );
    expect(c.variants[0]?.textFrom).toBe('render');
    expect(c.variants[0]?.text).toBeNull();
    const r = renderTemplate(c, 'en', { ...vars, tier: 'gold', points: 120 });
    expect(r.html).toContain('src="https://cdn.example/gold.png"');
    expect(r.text).toBe('Points: 120');
  });

  it('derives the same text once, at compile time, as from each rendered HTML', async () => {
    const c = await compileTemplate(
      email([
        {
          locale: 'en',
          subject: 's',
          body: mjml(
            `${section('<h1>Hello {{ customer.first_name }}</h1><p>Points: {{ points | default: 0 }}</p>')}
    <mj-raw>{% if discount_code %}</mj-raw>
${section('Your code: <b>{{ discount_code }}</b>')}
    <mj-raw>{% endif %}</mj-raw>
${section('<ul>{% for r in recommendations %}<li>{{ r.title }}</li>{% endfor %}</ul>{% for r in recommendations %}<p>{{ r.sku }}</p>{% endfor %}<p>{% if tier %}Tier {{ tier | upcase }}{% endif %}</p>')}
${unsubscribe}`,
            '<mj-preview>Hi {{ customer.first_name }}</mj-preview>',
          ),
        },
      ]),
    );
    expect(c.variants[0]?.textFrom).toBe('derived');
    const perRender = {
      ...c,
      key: 'e'.repeat(64),
      variants: c.variants.map((v) => ({ ...v, text: null, textFrom: 'render' as const, textMap: [] })),
    };
    const recs = [
      { sku: 'S1', title: 'Shirt' },
      { sku: 'S2', title: 'Tote & bag' },
    ];
    for (const v of [
      vars,
      { ...vars, discount_code: 'X1', recommendations: recs, points: 5, tier: 'gold' },
      { ...vars, recommendations: recs.slice(0, 1), customer: { first_name: 'A <b> & C' } },
    ]) {
      const once = renderTemplate(c, 'en', v);
      expect(once.text).toBe(renderTemplate(perRender, 'en', v).text);
      expect(once.text).not.toContain('Hi ');
    }
  });

  it('lets | raw opt out of escaping', async () => {
    const c = await compileTemplate(
      email([
        {
          locale: 'en',
          subject: 's',
          body: mjml(`${unsubscribe}\n${section('{{ snippet | raw }}|{{ snippet }}')}`),
        },
      ]),
    );
    expect(renderTemplate(c, 'en', { ...vars, snippet: '<i>x</i>' }).html).toContain(
      '<i>x</i>|&lt;i&gt;x&lt;/i&gt;',
    );
  });

  it('wants an unsubscribe link in a marketing email, not in a transactional one', async () => {
    const body = mjml(section('Your order has shipped'));
    const e = await failure(() => compileTemplate(email([{ locale: 'en', subject: 's', body }])));
    expect(e.message).toContain('a marketing email must link {{ unsubscribe_url }}');
    expect(e.where).toEqual({ field: 'variants[0].body' });
    await expect(
      compileTemplate(email([{ locale: 'en', subject: 's', body }], 'transactional')),
    ).resolves.toBeDefined();
  });

  it('refuses include, render and layout', async () => {
    for (const tag of ['{% include "x" %}', "{% render 'x' %}", '{% layout "x" %}']) {
      const e = await failure(() =>
        compileTemplate({
          name: 'n',
          channel: 'sms',
          kind: 'transactional',
          variants: [{ locale: 'en', body: `a ${tag}` }],
        }),
      );
      expect(e.message).toContain('is not available: a message template is self-contained');
      expect(e.where).toMatchObject({ field: 'variants[0].body', line: 1, column: 3 });
    }
  });

  it('survives JSON.stringify/parse and does not parse again per message', async () => {
    const c = await compileTemplate(welcome);
    const stored = JSON.parse(JSON.stringify(c)) as typeof c;
    expect(stored).toEqual(c);
    const parse = vi.spyOn(Liquid.prototype, 'parse');
    try {
      const first = renderTemplate(stored, 'uk', vars);
      expect(first).toEqual(renderTemplate(c, 'uk', vars));
      for (let i = 0; i < 500; i++)
        renderTemplate(JSON.parse(JSON.stringify(c)) as typeof c, i % 2 ? 'ru' : 'en', {
          ...vars,
          customer: { first_name: `n${i}` },
        });
      expect(parse).not.toHaveBeenCalled();
      expect(renderTemplate(stored, 'ru', { ...vars, customer: { first_name: 'Ivan' } }).subject).toBe(
        'Здравствуйте, Ivan!',
      );
    } finally {
      parse.mockRestore();
    }
  });

  it('refuses what is not a compiled template', async () => {
    const e = await failure(() => renderTemplate({ name: 'x' } as never, 'en', vars));
    expect(e.message).toContain('not a compiled template');
  });
});

describe('compileTemplate and renderTemplate: SMS and messenger', () => {
  it('renders Liquid text without escaping', async () => {
    const c = await compileTemplate({
      name: 'points',
      channel: 'sms',
      kind: 'transactional',
      variants: [
        {
          locale: 'uk',
          body: '{{ store.name }}: {{ customer.first_name }}, код {{ discount_code | default: "—" }}',
        },
        { locale: 'en', body: '{{ store.name }}: hi {{ customer.first_name }} & co' },
      ],
    });
    const r = renderTemplate(c, 'uk', { ...vars, store: { name: 'A&B <shop>' } });
    expect(r).toEqual({ locale: 'uk', text: 'A&B <shop>: Olena, код —' });
    expect(renderTemplate(c, 'de', vars).text).toBe('Kvitka: hi Olena & co');
  });

  it('stops a runaway loop', async () => {
    const e = await failure(() =>
      compileTemplate({
        name: 'loop',
        channel: 'messenger',
        kind: 'transactional',
        variants: [{ locale: 'en', body: 'x\n{% for i in (1..100000000) %}{{ i }}{% endfor %}' }],
      }),
    );
    expect(e.message).toContain('limit exceeded');
    expect(e.message).toContain('(rendering with the sample values)');
    expect(e.where).toMatchObject({ field: 'variants[0].body', line: 2 });
  });
});

describe('filters', () => {
  async function sms(body: string, locales = ['uk', 'ru', 'en']) {
    return compileTemplate({
      name: 'f',
      channel: 'sms',
      kind: 'transactional',
      variants: locales.map((locale) => ({ locale, body })),
    });
  }

  it('money formats integer minor units in the variant locale, exactly', async () => {
    const c = await sms(
      "{{ 1999 | money: 'UAH' }}|{{ 123456789012 | money: 'UAH' }}|{{ -500 | money: 'USD' }}|{{ 1999 | money: 'JPY' }}|{{ 1999 | money }}|{{ points | money }}",
    );
    const out = (l: string) => sp(renderTemplate(c, l, vars).text).split('|');
    expect(out('uk')).toEqual(['19,99 ₴', '1 234 567 890,12 ₴', '-5,00 USD', '1 999 ¥', '19,99 ₴', '']);
    expect(out('ru')).toEqual(['19,99 ₴', '1 234 567 890,12 ₴', '-5,00 $', '1 999 ¥', '19,99 ₴', '']);
    expect(out('en')).toEqual(['UAH 19.99', 'UAH 1,234,567,890.12', '-$5.00', '¥1,999', 'UAH 19.99', '']);
  });

  it('money refuses a fraction and a missing currency', async () => {
    const c = await sms('{{ amount | money }}', ['en']);
    const e = await failure(() => renderTemplate(c, 'en', { ...vars, amount: 19.99 }));
    expect(e.message).toContain('money expects an amount in integer minor units (1999 for 19.99), got 19.99');
    expect(e.where).toMatchObject({ field: 'variants[0].body', line: 1, column: 1 });
    const noCurrency = await failure(() => renderTemplate(c, 'en', { amount: 100, store: { name: 'x' } }));
    expect(noCurrency.message).toContain('money needs an ISO 4217 currency code');
    expect(sp(renderTemplate(c, 'en', { ...vars, amount: '2500' }).text)).toBe('UAH 25.00');
  });

  it('date_tz formats an instant in a time zone for uk, ru and en', async () => {
    // 21:30 UTC on 1 July is 00:30 on 2 July in Kyiv (UTC+3 in summer).
    const c = await sms(
      "{{ at | date_tz: 'Europe/Kyiv' }}|{{ at | date_tz: 'Europe/Kyiv', 'date' }}|{{ at | date_tz: 'UTC', 'date' }}|{{ at | date_tz }}",
    );
    const at = '2024-07-01T21:30:00Z';
    const out = (l: string) => sp(renderTemplate(c, l, { ...vars, at }).text).split('|');
    expect(out('uk')).toEqual([
      '2 липня 2024 р. о 00:30',
      '2 липня 2024 р.',
      '1 липня 2024 р.',
      '2 липня 2024 р. о 00:30',
    ]);
    expect(out('ru')).toEqual([
      '2 июля 2024 г. в 00:30',
      '2 июля 2024 г.',
      '1 июля 2024 г.',
      '2 июля 2024 г. в 00:30',
    ]);
    expect(out('en')).toEqual([
      'July 2, 2024 at 12:30 AM',
      'July 2, 2024',
      'July 1, 2024',
      'July 2, 2024 at 12:30 AM',
    ]);
    expect(sp(renderTemplate(c, 'en', { ...vars, at: new Date(at) }).text)).toBe(out('en').join('|'));
    expect(renderTemplate(c, 'en', { ...vars, at: null }).text).toBe('|||');
  });

  it('date_tz: an unknown zone is refused when compiling, with its line', async () => {
    const e = await failure(() =>
      sms("Sent\n  {{ customer.first_name }} {{ '2024-01-01T00:00:00Z' | date_tz: 'Europe/Kiev2' }}", ['en']),
    );
    expect(e.message).toContain("date_tz: unknown time zone 'Europe/Kiev2'");
    expect(e.where).toEqual({ field: 'variants[0].body', line: 2, column: 29 });
  });

  it('the sample values cover every documented variable', () => {
    expect(Object.keys(SAMPLE_TEMPLATE_VARS).sort()).toEqual(
      [
        'customer',
        'discount_code',
        'points',
        'preferences_url',
        'recommendations',
        'store',
        'tier',
        'unsubscribe_url',
      ].sort(),
    );
  });
});
