import QRCode from 'qrcode';
import type { ModuleContext } from '../../kit/context.js';
import { AppError } from '../../shared/errors.js';
import { formatMinor, minorDigits } from '../../shared/money.js';
import { idOfToken, idToken } from '../../shared/signed.js';
import { linkSecretOf } from '../messaging/links.js';
import { escapeHtml, langOf, PAGE_HEADERS, type PageLang } from '../messaging/pages.js';
import { getStore } from '../settings/service.js';
import { cardHolder } from './cardRepository.js';
import * as repo from './repository.js';
import type { Member, ProgramConfig } from './schema.js';
import { currentProgram, getMember } from './service.js';

/**
 * The member's digital loyalty card: a signed link (`/card/<token>`, one per customer, never expires)
 * to a small public page — programme, card number and its QR code (what the till scans), balance and
 * its value, pending and soon-expiring points, tier, its benefits and the next tier — readable on a
 * phone and printable on one page as a card. The token is HMAC-SHA-256 with the store's link secret
 * (the one of the preference and unsubscribe links) under its own purpose, so a preference token is
 * never a card token and a card token opens nothing else. The page has no scripts, fonts or images
 * from elsewhere; every value is escaped.
 */

const PURPOSE = 'loyalty-card';

/** `<customer id base 36>.<mac>` */
export const cardToken = (secret: string, customerId: number): string => idToken(secret, PURPOSE, customerId);

/** The customer of a card token, or null when it is not one of ours (altered, another kind, malformed). */
export const customerOfCardToken = (secret: string, token: string): number | null =>
  idOfToken(secret, PURPOSE, token);

/** The headers to answer the page with: never cached, never framed, no Referer, nothing from elsewhere. */
export const CARD_PAGE_HEADERS: Readonly<Record<string, string>> = PAGE_HEADERS;

// ---- texts ----------------------------------------------------------------------------------------

type Plural = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };

export const CARD_TEXTS = {
  en: {
    title: 'Loyalty card',
    points: { one: 'point', other: 'points' } as Plural,
    cardNumber: 'Card number',
    member: 'Member',
    memberSince: 'Member since',
    scan: 'Show this code at the till',
    qrLabel: (n: string) => `QR code of card number ${n}`,
    available: 'Points available',
    worth: (v: string) => `worth ${v}`,
    pending: 'Pending points',
    pendingNote: 'available once the return period has passed',
    debt: 'Points owed',
    tier: 'Tier',
    noTier: 'No tier yet',
    benefits: 'Benefits',
    multiplier: (x: string) => `Points ×${x} on orders`,
    discount: (p: string) => `${p} discount`,
    freeShipping: 'Free shipping',
    nextTier: 'Next tier',
    spendMore: (v: string, tier: string) => `Spend ${v} more to reach ${tier}`,
    earnMore: (v: string, tier: string) => `Earn ${v} more to reach ${tier}`,
    topTier: 'You are at the top tier',
    expiring: 'Expiring soon',
    expiresOn: (points: string, date: string) => `${points} on ${date}`,
    asOf: (date: string) => `Balance on ${date}`,
    live: 'Your current balance:',
    notValid: ['Link not valid', 'This link is not valid.'],
    notMember: ['Card not found', 'This loyalty card is no longer valid.'],
  },
  uk: {
    title: 'Картка лояльності',
    points: { one: 'бал', few: 'бали', many: 'балів', other: 'бала' } as Plural,
    cardNumber: 'Номер картки',
    member: 'Учасник',
    memberSince: 'Учасник з',
    scan: 'Покажіть цей код на касі',
    qrLabel: (n: string) => `QR-код номера картки ${n}`,
    available: 'Доступно балів',
    worth: (v: string) => `на суму ${v}`,
    pending: 'Бали в очікуванні',
    pendingNote: 'стануть доступні після завершення строку повернення',
    debt: 'Борг балів',
    tier: 'Рівень',
    noTier: 'Рівня ще немає',
    benefits: 'Переваги',
    multiplier: (x: string) => `Бали ×${x} за замовлення`,
    discount: (p: string) => `Знижка ${p}`,
    freeShipping: 'Безкоштовна доставка',
    nextTier: 'Наступний рівень',
    spendMore: (v: string, tier: string) => `Зробіть покупки ще на ${v}, щоб отримати рівень ${tier}`,
    earnMore: (v: string, tier: string) => `Зберіть ще ${v}, щоб отримати рівень ${tier}`,
    topTier: 'У вас найвищий рівень',
    expiring: 'Незабаром згорять',
    expiresOn: (points: string, date: string) => `${points} — ${date}`,
    asOf: (date: string) => `Баланс на ${date}`,
    live: 'Актуальний баланс:',
    notValid: ['Посилання недійсне', 'Це посилання недійсне.'],
    notMember: ['Картку не знайдено', 'Ця картка лояльності більше не дійсна.'],
  },
  ru: {
    title: 'Карта лояльности',
    points: { one: 'балл', few: 'балла', many: 'баллов', other: 'балла' } as Plural,
    cardNumber: 'Номер карты',
    member: 'Участник',
    memberSince: 'Участник с',
    scan: 'Покажите этот код на кассе',
    qrLabel: (n: string) => `QR-код номера карты ${n}`,
    available: 'Доступно баллов',
    worth: (v: string) => `на сумму ${v}`,
    pending: 'Баллы в ожидании',
    pendingNote: 'станут доступны после окончания срока возврата',
    debt: 'Долг баллов',
    tier: 'Уровень',
    noTier: 'Уровня пока нет',
    benefits: 'Преимущества',
    multiplier: (x: string) => `Баллы ×${x} за заказы`,
    discount: (p: string) => `Скидка ${p}`,
    freeShipping: 'Бесплатная доставка',
    nextTier: 'Следующий уровень',
    spendMore: (v: string, tier: string) => `Совершите покупки ещё на ${v}, чтобы получить уровень ${tier}`,
    earnMore: (v: string, tier: string) => `Наберите ещё ${v}, чтобы получить уровень ${tier}`,
    topTier: 'У вас высший уровень',
    expiring: 'Скоро сгорят',
    expiresOn: (points: string, date: string) => `${points} — ${date}`,
    asOf: (date: string) => `Баланс на ${date}`,
    live: 'Актуальный баланс:',
    notValid: ['Ссылка недействительна', 'Эта ссылка недействительна.'],
    notMember: ['Карта не найдена', 'Эта карта лояльности больше не действительна.'],
  },
} as const satisfies Record<PageLang, unknown>;

// ---- formatting -----------------------------------------------------------------------------------

/** `1234567890123456` → `1234 5678 9012 3456`. */
export const groupCardNumber = (n: string): string => n.replace(/(.{4})(?=.)/g, '$1 ');

function validZone(zone: string | null | undefined): string | null {
  if (!zone) return null;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return null;
  }
}

class Formats {
  private readonly plural: Intl.PluralRules;
  private readonly int: Intl.NumberFormat;
  private readonly date: Intl.DateTimeFormat;

  constructor(
    readonly lang: PageLang,
    timeZone: string,
  ) {
    this.plural = new Intl.PluralRules(lang);
    this.int = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
    this.date = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeZone });
  }

  number(n: number): string {
    return this.int.format(n);
  }

  /** `120 points`, `1 бал`, `5 баллов`. */
  points(n: number): string {
    const forms = CARD_TEXTS[this.lang].points;
    return `${this.int.format(n)} ${forms[this.plural.select(n)] ?? forms.other}`;
  }

  /** Minor units in the currency, exactly (a decimal string, never a float), in the page's language. */
  money(minor: number, currency: string): string {
    const digits = minorDigits(currency);
    const decimal = formatMinor(minor, digits) as `${number}`;
    try {
      return new Intl.NumberFormat(this.lang, {
        style: 'currency',
        currency,
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      }).format(decimal);
    } catch {
      return `${decimal} ${currency}`;
    }
  }

  decimal(n: number): string {
    return new Intl.NumberFormat(this.lang, { maximumFractionDigits: 2 }).format(n);
  }

  percent(p: number): string {
    return new Intl.NumberFormat(this.lang, { style: 'percent', maximumFractionDigits: 2 }).format(p / 100);
  }

  day(iso: string | Date): string {
    return this.date.format(typeof iso === 'string' ? new Date(iso) : iso);
  }
}

// ---- the page -----------------------------------------------------------------------------------

const STYLE = `:root{color-scheme:light}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:28rem;margin:1.5rem auto;padding:0 1rem;line-height:1.4;color:#1a1a1a;background:#f4f4f6}
h1{font-size:1.1rem;margin:0 0 .75rem;color:#555;font-weight:600}
h2{font-size:1rem;margin:1.25rem 0 .4rem}
.card{display:grid;grid-template-columns:1fr auto;grid-template-areas:"brand qr" "tier qr" "holder qr" "number number";gap:.2rem .75rem;align-items:start;aspect-ratio:85.6/53.98;padding:1rem 1.1rem;border-radius:.9rem;background:linear-gradient(135deg,#1f2a44,#3b4f7a);color:#fff;box-shadow:0 .4rem 1.2rem rgba(0,0,0,.18)}
.brand{grid-area:brand;font-size:1.15rem;font-weight:700;overflow-wrap:anywhere}
.badge{grid-area:tier;justify-self:start;font-size:.8rem;padding:.1rem .55rem;border:1px solid rgba(255,255,255,.6);border-radius:1rem}
.holder{grid-area:holder;align-self:end;font-size:.95rem;overflow-wrap:anywhere}
.qr{grid-area:qr;background:#fff;padding:.3rem;border-radius:.4rem;line-height:0}
.qr svg{width:8.5rem;height:8.5rem;display:block}
.number{grid-area:number;align-self:end;font-family:ui-monospace,"SF Mono",Menlo,Consolas,monospace;font-size:1.15rem;letter-spacing:.06em;white-space:nowrap}
.scan{font-size:.85rem;color:#555;margin:.5rem 0 0;text-align:center}
.details{background:#fff;border-radius:.75rem;padding:.25rem 1rem 1rem;margin-top:1rem}
dl{display:grid;grid-template-columns:1fr auto;gap:.35rem 1rem;margin:.75rem 0 0}
dt{color:#555}
dd{margin:0;text-align:right;font-weight:600}
dd small,.note{display:block;font-weight:400;color:#666;font-size:.8rem}
ul{margin:.2rem 0;padding-left:1.2rem}
.muted{color:#666;font-size:.85rem}
.message{background:#fff;border-radius:.75rem;padding:1rem}
a{color:#2b4a8a;overflow-wrap:anywhere}
@page{margin:12mm}
@media print{
body{background:#fff;margin:0;max-width:none;padding:0;font-size:9pt;color:#000}
h1,.scan,.screen-only{display:none}
.card{width:85.6mm;height:53.98mm;aspect-ratio:auto;padding:3.5mm 4mm;border-radius:3.2mm;border:.3mm solid #000;background:#fff;color:#000;box-shadow:none;break-inside:avoid;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.badge{border-color:#000}
.brand{font-size:11pt}
.holder{font-size:9pt}
.number{font-size:11pt}
.qr{padding:0}
.qr svg{width:25mm;height:25mm}
.details{width:85.6mm;padding:0;margin-top:4mm;border-radius:0;break-inside:avoid}
h2{font-size:9.5pt;margin:3mm 0 1mm}
dl{margin-top:2mm;gap:1mm 4mm}
.expiring li:nth-child(n+6){display:none}
a{color:#000;text-decoration:none}
}`;

function htmlPage(lang: PageLang, title: string, body: string): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer"><meta name="format-detection" content="telephone=no"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

function messagePage(lang: PageLang, [title, text]: readonly [string, string]): string {
  return htmlPage(
    lang,
    title,
    `<main class="message"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></main>`,
  );
}

async function qrSvg(cardNumber: string, label: string): Promise<string> {
  const svg = await QRCode.toString(cardNumber, { type: 'svg', errorCorrectionLevel: 'M', margin: 1 });
  return svg.trim().replace(/^<svg /, `<svg role="img" aria-label="${escapeHtml(label)}" focusable="false" `);
}

interface CardView {
  lang: PageLang;
  program: Pick<ProgramConfig, 'name' | 'tiers'>;
  member: Member;
  firstName: string | null;
  timeZone: string;
  now: Date;
  liveUrl: string | null;
}

/** The HTML of the card (pure but for the QR code's rendering). */
export async function renderCard(v: CardView): Promise<string> {
  const t = CARD_TEXTS[v.lang];
  const f = new Formats(v.lang, v.timeZone);
  const m = v.member;
  const e = escapeHtml;
  const currency = m.currency ?? 'XXX';
  const grouped = groupCardNumber(m.cardNumber);
  const levels = v.program.tiers.levels;
  const tier = m.tier === null ? undefined : levels.find((l) => l.name === m.tier);

  const card =
    `<section class="card" aria-label="${e(t.title)}">` +
    `<div class="brand">${e(v.program.name)}</div>` +
    (m.tier !== null ? `<div class="badge">${e(m.tier)}</div>` : '') +
    (v.firstName ? `<div class="holder">${e(v.firstName)}</div>` : '') +
    `<div class="qr">${await qrSvg(m.cardNumber, t.qrLabel(grouped))}</div>` +
    `<div class="number" aria-label="${e(t.cardNumber)}">${e(grouped)}</div>` +
    `</section><p class="scan">${e(t.scan)}</p>`;

  const rows: string[] = [];
  const row = (label: string, value: string, note?: string) =>
    rows.push(`<dt>${e(label)}</dt><dd>${e(value)}${note ? `<small>${e(note)}</small>` : ''}</dd>`);
  if (v.firstName) row(t.member, v.firstName);
  row(t.memberSince, f.day(m.enrolledAt));
  row(t.available, f.number(m.available), t.worth(f.money(m.valueMinor, currency)));
  if (m.pending > 0) row(t.pending, f.number(m.pending), t.pendingNote);
  if (m.debt > 0) row(t.debt, f.number(m.debt));

  const sections: string[] = [`<dl>${rows.join('')}</dl>`];

  if (levels.length > 0 || m.tier !== null) {
    const benefits: string[] = [];
    if (tier && tier.multiplier > 1) benefits.push(t.multiplier(f.decimal(tier.multiplier)));
    if (tier && tier.discountPercent > 0) benefits.push(t.discount(f.percent(tier.discountPercent)));
    if (tier?.freeShipping) benefits.push(t.freeShipping);
    sections.push(
      `<section class="tier"><h2>${e(t.tier)}: ${e(m.tier ?? t.noTier)}</h2>` +
        (benefits.length
          ? `<p class="muted">${e(t.benefits)}</p><ul>${benefits.map((b) => `<li>${e(b)}</li>`).join('')}</ul>`
          : '') +
        `</section>`,
    );
    if (m.nextTier) {
      const missing =
        v.program.tiers.basis === 'spend'
          ? t.spendMore(f.money(m.nextTier.missing, currency), m.nextTier.name)
          : t.earnMore(f.points(m.nextTier.missing), m.nextTier.name);
      sections.push(`<section class="next"><h2>${e(t.nextTier)}</h2><p>${e(missing)}</p></section>`);
    } else if (m.tier !== null && levels.length > 0) {
      sections.push(`<p class="muted">${e(t.topTier)}</p>`);
    }
  }

  // Points expiring per local day (grants of one day expire at different instants).
  const byDay = new Map<string, number>();
  for (const x of m.expiringSoon) {
    if (x.points <= 0) continue;
    const day = f.day(x.expiresAt);
    byDay.set(day, (byDay.get(day) ?? 0) + x.points);
  }
  if (byDay.size > 0)
    sections.push(
      `<section class="expiring"><h2>${e(t.expiring)}</h2><ul>${[...byDay]
        .map(([day, points]) => `<li>${e(t.expiresOn(f.points(points), day))}</li>`)
        .join('')}</ul></section>`,
    );

  sections.push(`<p class="muted">${e(t.asOf(f.day(v.now)))}</p>`);
  if (v.liveUrl)
    sections.push(`<p class="muted">${e(t.live)} <a href="${e(v.liveUrl)}">${e(v.liveUrl)}</a></p>`);

  return htmlPage(
    v.lang,
    `${v.program.name} — ${t.title}`,
    `<main><h1>${e(t.title)}</h1>${card}<div class="details">${sections.join('')}</div></main>`,
  );
}

/** The base URL without trailing slashes, when it is an http(s) URL (else null: never a `javascript:` link). */
const baseOf = (baseUrl: string | undefined): string | null =>
  baseUrl && /^https?:\/\/[^\s"'<>]+$/i.test(baseUrl) ? baseUrl.replace(/\/+$/, '') : null;

/**
 * `GET /card/<token>`: the member's card. 403 (a page that says only that the link is not valid) for a
 * token that is not ours; 404 when the customer is no longer a member (or was erased). The language is
 * `opts.locale`, else the customer's, else the store's; dates are in the customer's time zone, else the
 * store's. With `baseUrl`, the page names its own link (a printed card's way back to the live balance).
 */
export async function cardPage(
  ctx: ModuleContext,
  token: string,
  opts: { locale?: 'en' | 'uk' | 'ru'; baseUrl?: string } = {},
): Promise<{ status: 200 | 403 | 404; html: string }> {
  const store = await getStore(ctx);
  const asked = opts.locale ? langOf(opts.locale) : null;
  const customerId = customerOfCardToken(await linkSecretOf(ctx), token);
  if (customerId === null) {
    const lang = asked ?? langOf(store.locale);
    return { status: 403, html: messagePage(lang, CARD_TEXTS[lang].notValid) };
  }

  const holder = await cardHolder(ctx.db, customerId);
  const lang = asked ?? langOf(holder?.locale ?? store.locale);
  const gone = { status: 404 as const, html: messagePage(lang, CARD_TEXTS[lang].notMember) };
  const row = await repo.memberById(ctx.db, customerId);
  if (!row || !holder || holder.erased) return gone;
  let member: Member;
  try {
    member = await getMember(ctx, { customer: row.external_id });
  } catch (err) {
    if (err instanceof AppError && (err.code === 'not_found' || err.code === 'conflict')) return gone;
    throw err;
  }
  const program = await currentProgram(ctx);
  if (!program) return gone;

  const base = baseOf(opts.baseUrl);
  const html = await renderCard({
    lang,
    program: program.config,
    member,
    firstName: holder.first_name?.trim() || null,
    timeZone: validZone(holder.time_zone) ?? validZone(store.timeZone) ?? 'UTC',
    now: ctx.clock.now(),
    liveUrl: base ? `${base}/card/${token}` : null,
  });
  return { status: 200, html };
}

/** The card link of a member (404 when the customer is not one). */
export async function cardLink(
  ctx: ModuleContext,
  customerExternalId: string,
  baseUrl: string,
): Promise<{ url: string; token: string }> {
  const member = await getMember(ctx, { customer: customerExternalId });
  const row = await repo.memberByCard(ctx.db, member.cardNumber);
  if (!row)
    throw new AppError('not_found', `customer '${customerExternalId}' is not a loyalty member`, {
      where: { field: 'customer' },
    });
  const token = cardToken(await linkSecretOf(ctx), row.customer_id);
  return { url: `${baseUrl.replace(/\/+$/, '')}/card/${token}`, token };
}
