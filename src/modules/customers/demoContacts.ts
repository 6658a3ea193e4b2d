/**
 * Invented contact details for the demo store's customers. The UCI Online Retail file knows a customer
 * by a number and a country only; to show consent, locales and sending on real purchase histories,
 * `retain demo` gives each customer, deterministically from their id (the same on every machine):
 * - a first name and an email at `online-retail.example` (a reserved domain: nothing is deliverable);
 * - a locale from the country (de, fr, es …), and for UK customers en (80 %), uk (12 %) or ru (8 %), so the
 *   demo's templates show all three catalogue languages; a time zone from the country;
 * - a UK mobile number for 70 % (`+447700` + the id), unique per customer;
 * - email consent: granted 62 %, denied 18 %, unsubscribed 10 %, never asked 10 %; SMS consent (with a
 *   number): granted 35 %, denied 65 %. Source `demo generator`.
 * None of this is in the data; it models a store whose checkout asks for consent.
 */

/** A customers-file row (the importer's column names). */
export type DemoContactRow = Record<string, string>;

const ZONES: Record<string, [locale: string, zone: string]> = {
  'United Kingdom': ['en', 'Europe/London'],
  EIRE: ['en', 'Europe/Dublin'],
  'Channel Islands': ['en', 'Europe/London'],
  Germany: ['de', 'Europe/Berlin'],
  France: ['fr', 'Europe/Paris'],
  Spain: ['es', 'Europe/Madrid'],
  Portugal: ['pt', 'Europe/Lisbon'],
  Netherlands: ['nl', 'Europe/Amsterdam'],
  Belgium: ['nl', 'Europe/Brussels'],
  Switzerland: ['de', 'Europe/Zurich'],
  Austria: ['de', 'Europe/Vienna'],
  Italy: ['it', 'Europe/Rome'],
  Norway: ['nb', 'Europe/Oslo'],
  Sweden: ['sv', 'Europe/Stockholm'],
  Finland: ['fi', 'Europe/Helsinki'],
  Denmark: ['da', 'Europe/Copenhagen'],
  Iceland: ['is', 'Atlantic/Reykjavik'],
  Poland: ['pl', 'Europe/Warsaw'],
  Greece: ['el', 'Europe/Athens'],
  Cyprus: ['el', 'Asia/Nicosia'],
  Malta: ['en', 'Europe/Malta'],
  Lithuania: ['lt', 'Europe/Vilnius'],
  'Czech Republic': ['cs', 'Europe/Prague'],
  Israel: ['he', 'Asia/Jerusalem'],
  Japan: ['ja', 'Asia/Tokyo'],
  Singapore: ['en', 'Asia/Singapore'],
  Australia: ['en', 'Australia/Sydney'],
  Canada: ['en', 'America/Toronto'],
  USA: ['en', 'America/New_York'],
  Brazil: ['pt', 'America/Sao_Paulo'],
  Bahrain: ['ar', 'Asia/Bahrain'],
  'United Arab Emirates': ['ar', 'Asia/Dubai'],
  'Saudi Arabia': ['ar', 'Asia/Riyadh'],
  Lebanon: ['ar', 'Asia/Beirut'],
  RSA: ['en', 'Africa/Johannesburg'],
};

const NAMES: Record<string, readonly string[]> = {
  en: ['Olivia', 'Jack', 'Amelia', 'Harry', 'Isla', 'George', 'Emily', 'Oscar', 'Grace', 'Noah'],
  uk: ['Олена', 'Тарас', 'Оксана', 'Богдан', 'Ірина', 'Андрій', 'Марія', 'Дмитро'],
  ru: ['Анна', 'Дмитрий', 'Елена', 'Сергей', 'Ольга', 'Алексей', 'Наталья', 'Иван'],
  de: ['Lena', 'Lukas', 'Mia', 'Felix', 'Hannah', 'Jonas'],
  fr: ['Léa', 'Hugo', 'Chloé', 'Louis', 'Manon', 'Jules'],
  es: ['Lucía', 'Hugo', 'Sofía', 'Mateo', 'Martina', 'Pablo'],
};

/** A uniform number in [0, 1) per (id, purpose): FNV-1a, then a mulberry32 step. */
function draw(id: string, purpose: number): number {
  let h = 0x811c9dc5 ^ purpose;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  let t = (h + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** The invented contact row for one demo customer (see the module comment). */
export function demoContact(externalId: string, country: string | null): DemoContactRow {
  const [countryLocale, zone] = ZONES[country ?? ''] ?? ['en', ''];
  let locale = countryLocale;
  if (country === 'United Kingdom') {
    const u = draw(externalId, 1);
    locale = u < 0.8 ? 'en' : u < 0.92 ? 'uk' : 'ru';
  }
  const names = NAMES[locale] ?? (NAMES.en as readonly string[]);
  const row: DemoContactRow = {
    customer_id: externalId,
    first_name: names[Math.floor(draw(externalId, 2) * names.length)] as string,
    email: `customer${externalId.replace(/[^A-Za-z0-9]/g, '')}@online-retail.example`,
    locale,
  };
  if (zone) row.time_zone = zone;
  const consent = draw(externalId, 3);
  if (consent < 0.9) {
    row.email_consent = consent < 0.62 ? 'granted' : consent < 0.8 ? 'denied' : 'unsubscribed';
    row.email_consent_source = 'demo generator';
  }
  const digits = externalId.replace(/\D/g, '');
  if (draw(externalId, 4) < 0.7 && digits.length > 0 && digits.length <= 6) {
    row.phone = `+447700${digits.padStart(6, '0')}`;
    row.sms_consent = draw(externalId, 5) < 0.35 ? 'granted' : 'denied';
    row.sms_consent_source = 'demo generator';
  }
  return row;
}
