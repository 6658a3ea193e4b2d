// Message template rendering rate (issue 21, item 4): renderTemplate over many recipients.
//
// Compiles a representative marketing email (uk/ru/en variants: a greeting, a points line with `money`,
// a discount section behind <mj-raw>{% if %}, a recommendations list, the unsubscribe button; the text
// part derived from the HTML) and an SMS, then renders BENCH_TEMPLATE_RENDERS messages (default
// 100,000), each for a different customer. Prints renders/s for
//   - renderTemplate, email (subject + HTML + text) and SMS: the parsed Liquid is cached per compiled
//     template, so no message parses;
//   - the floor: a bare `liquid.parseAndRenderSync(html, vars)` loop over the same compiled HTML (liquidjs
//     parsing it for every message, as a renderer without the cache would) — ratio = ours / floor;
//   - html-to-text on each rendered HTML: what deriving the text part per message (instead of once, at
//     compile time) would cost on top.
// Never fails on time; exits non-zero only on wrong output.
//
//   npm run build && npm run bench -- templates
//   BENCH_TEMPLATE_RENDERS=20000 node bench/templates.mjs
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compile as compileHtmlToText } from 'html-to-text';
import { Liquid } from 'liquidjs';
import { ROOT, fmt, table } from './lib.mjs';

const RENDERS = Number(process.env.BENCH_TEMPLATE_RENDERS ?? 100_000);
const FLOOR_RENDERS = Math.max(1000, Math.round(RENDERS / 10));

const modulePath = join(ROOT, 'dist/modules/messaging/templates.js');
if (!existsSync(modulePath)) {
  console.error('bench/templates: dist/ is missing; run `npm run build` first');
  process.exit(2);
}
const { compileTemplate, renderTemplate } = await import(modulePath);

const section = (text) => `    <mj-section><mj-column><mj-text>${text}</mj-text></mj-column></mj-section>`;
const body = (hello, points, code, picks) => `<mjml>
  <mj-head><mj-title>{{ store.name }}</mj-title><mj-preview>${hello} {{ customer.first_name }}</mj-preview></mj-head>
  <mj-body>
${section(`<h1>${hello}, {{ customer.first_name }}!</h1><p>${points}: {{ points | default: 0 }} ({{ 150000 | money }})</p>`)}
    <mj-raw>{% if discount_code %}</mj-raw>
${section(`${code}: <b>{{ discount_code }}</b>`)}
    <mj-raw>{% endif %}</mj-raw>
${section(`<p>${picks}</p><ul>{% for r in recommendations %}<li>{{ r.title }} ({{ r.sku }})</li>{% endfor %}</ul>`)}
    <mj-section><mj-column>
      <mj-button href="{{ unsubscribe_url }}">Unsubscribe</mj-button>
      <mj-text><a href="{{ preferences_url }}">Preferences</a></mj-text>
    </mj-column></mj-section>
  </mj-body>
</mjml>`;

let t = performance.now();
const email = await compileTemplate({
  name: 'bench-welcome',
  channel: 'email',
  kind: 'marketing',
  variants: [
    {
      locale: 'uk',
      subject: 'Вітаємо, {{ customer.first_name }}!',
      body: body('Привіт', 'Бали', 'Ваш код', 'Вам сподобається'),
    },
    {
      locale: 'ru',
      subject: 'Здравствуйте, {{ customer.first_name }}!',
      body: body('Привет', 'Баллы', 'Ваш код', 'Вам понравится'),
    },
    {
      locale: 'en',
      subject: 'Welcome, {{ customer.first_name }}!',
      body: body('Hello', 'Points', 'Your code', 'Picked for you'),
    },
  ],
});
const compileMs = performance.now() - t;
const sms = await compileTemplate({
  name: 'bench-sms',
  channel: 'sms',
  kind: 'marketing',
  variants: [
    {
      locale: 'uk',
      body: '{{ store.name }}: {{ customer.first_name }}, код {{ discount_code }} — {{ 5000 | money }}. Відписка: {{ unsubscribe_url }}',
    },
    {
      locale: 'en',
      body: '{{ store.name }}: {{ customer.first_name }}, code {{ discount_code }} for {{ 5000 | money }}. Stop: {{ unsubscribe_url }}',
    },
  ],
});

const locales = ['uk-UA', 'ru', 'en', 'pl', 'uk'];
const varsFor = (i) => ({
  customer: {
    first_name: `Olena<${i}>`,
    last_name: 'Kovalenko',
    email: `c${i}@example.com`,
    phone: null,
    locale: locales[i % locales.length],
    external_id: `C-${i}`,
  },
  store: { name: 'Kvitka & Co', currency: 'UAH', time_zone: 'Europe/Kyiv' },
  unsubscribe_url: `https://shop.example/u/${i}?t=${(i * 7919) % 100000}`,
  preferences_url: `https://shop.example/p/${i}`,
  discount_code: i % 3 === 0 ? `CODE${i}` : null,
  recommendations: Array.from({ length: i % 4 }, (_, k) => ({ sku: `SKU-${k}`, title: `Product ${k}` })),
  points: i % 5 === 0 ? null : i % 1000,
  tier: null,
});
// The variables are made beforehand so that every loop below measures rendering only.
const allVars = Array.from({ length: Math.min(RENDERS, 10_000) }, (_, i) => varsFor(i));
const vars = (i) => allVars[i % allVars.length];

let wrong = 0;
const check = (ok, what) => {
  if (!ok) {
    wrong++;
    console.error(`wrong output: ${what}`);
  }
};

// Ours: email.
let bytes = 0;
t = performance.now();
for (let i = 0; i < RENDERS; i++) {
  const m = renderTemplate(email, vars(i).customer.locale, vars(i));
  bytes += m.html.length + m.text.length;
}
const emailMs = performance.now() - t;
const sample = renderTemplate(email, 'uk', vars(3));
check(sample.subject === 'Вітаємо, Olena<3>!', `subject ${sample.subject}`);
check(
  sample.html.includes('Привіт, Olena&lt;3&gt;!') && sample.html.includes('<b>CODE3</b>'),
  'html escaping / discount',
);
check(sample.text.includes('Привіт, Olena<3>!') && sample.text.includes(' * Product 2 (SKU-2)'), 'text part');

// Ours: SMS.
t = performance.now();
for (let i = 0; i < RENDERS; i++) renderTemplate(sms, vars(i).customer.locale, vars(i));
const smsMs = performance.now() - t;
check(renderTemplate(sms, 'pl', vars(3)).text.startsWith('Kvitka & Co: Olena<3>, code CODE3 for UAH'), 'sms');

// The floor: liquidjs parsing the same compiled HTML for every message.
const floor = new Liquid({ outputEscape: 'escape' });
const uah = new Map();
floor.registerFilter('money', function (v) {
  const l = this.context.globals.locale ?? 'en';
  if (!uah.has(l)) uah.set(l, new Intl.NumberFormat(l, { style: 'currency', currency: 'UAH' }));
  return uah.get(l).format(v / 100);
});
const htmlOf = Object.fromEntries(email.variants.map((v) => [v.locale, v.html]));
const floorLocale = ['uk', 'ru', 'en', 'en', 'uk'];
t = performance.now();
for (let i = 0; i < FLOOR_RENDERS; i++) {
  const l = floorLocale[i % floorLocale.length];
  floor.parseAndRenderSync(htmlOf[l], vars(i), { globals: { locale: l } });
}
const floorMs = performance.now() - t;

// html-to-text per message (the alternative to deriving the text once).
const toText = compileHtmlToText({ wordwrap: false });
const rendered = Array.from({ length: 50 }, (_, i) => renderTemplate(email, 'en', vars(i)).html);
const H2T = Math.max(500, Math.round(RENDERS / 50));
t = performance.now();
for (let i = 0; i < H2T; i++) toText(rendered[i % rendered.length]);
const h2tMs = performance.now() - t;

const rate = (n, ms) => n / (ms / 1000);
const emailRate = rate(RENDERS, emailMs);
const floorRate = rate(FLOOR_RENDERS, floorMs);
console.log(`compile (MJML, 3 variants, first compile loads MJML): ${fmt(compileMs, 0)} ms`);
console.log(
  table(
    ['loop', 'messages', 'ms', 'renders/s', 'µs/render'],
    [
      [
        'renderTemplate email (subject+html+text)',
        RENDERS,
        fmt(emailMs, 0),
        fmt(emailRate, 0),
        fmt((emailMs * 1000) / RENDERS, 1),
      ],
      [
        'renderTemplate sms',
        RENDERS,
        fmt(smsMs, 0),
        fmt(rate(RENDERS, smsMs), 0),
        fmt((smsMs * 1000) / RENDERS, 1),
      ],
      [
        'floor: liquid.parseAndRenderSync(html)',
        FLOOR_RENDERS,
        fmt(floorMs, 0),
        fmt(floorRate, 0),
        fmt((floorMs * 1000) / FLOOR_RENDERS, 1),
      ],
      [
        'html-to-text per rendered html',
        H2T,
        fmt(h2tMs, 0),
        fmt(rate(H2T, h2tMs), 0),
        fmt((h2tMs * 1000) / H2T, 1),
      ],
    ],
  ),
);
console.log(
  `email renders / floor (parse every message): ${fmt(emailRate / floorRate)}×  (${(bytes / 1e6).toFixed(0)} MB rendered)`,
);
if (wrong) process.exit(1);
