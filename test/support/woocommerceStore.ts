/**
 * A seeded, invented WooCommerce store ("Fjord & Fennel", EUR, 2023–2024) written as the WooCommerce
 * Customer / Order / Coupon Export plugin writes it — the column names and value formats of its built-in
 * formats (docs/import-formats.md#woocommerce):
 *
 * - `orders-2023.csv`: 2023's orders in "Default - One Row per Item" (order columns repeated per item,
 *   `refunded_total` the only refund figure);
 * - `orders-2024.csv`: 2024's orders in "Default" (one row per order, items in the pipe-delimited
 *   `line_items` cell, each refund in `refunds` with its id, date, amount and reason);
 * - `customers.csv`: the "Default" customers format — every registered customer (`customer_id` > 0, with
 *   or without orders) and one row per guest email (`customer_id` 0).
 *
 * Quirks on purpose: non-ASCII names, commas/quotes/newlines in quoted cells (PHP's fputcsv quotes any
 * cell with a space), multi-line customer notes, `'` before cells starting with `+`/`-` (the plugin's
 * formula guard), case variants of one email, guests who also have an account, orders without email,
 * `shipping_total` unformatted (`4.9`), coupons, fees, 19 % tax, full and partial refunds (some full
 * refunds in two parts), every WooCommerce status including `checkout-draft`.
 *
 * `expected` is computed from the generator's own objects (never by reading the CSV back), by the
 * `WOO_RULES` below. Same seed → same bytes.
 */
import { mulberry32 } from '../../src/shared/random.js';

/** How each expected figure is defined (the style of the Shopify sample's reference.json `rules`). */
export const WOO_RULES = {
  order:
    'one distinct order_id; an order in status checkout-draft is not an order (a cart in checkout): it adds to nothing and creates no customer',
  customer:
    'customer_id > 0 → wc-<customer_id>; customer_id 0 → billing_email trimmed and lower-cased (a guest checking out with the email of an account is still keyed by the email); no billing_email → a guest order, no customer',
  statuses:
    'completed, processing → paid (partially_refunded when 0 < refunded_total < order_total); on-hold → pending; pending (pending payment) → unpaid; cancelled, failed, refunded as they are',
  summaryScope:
    'orders of a customer whose status is completed, processing, on-hold or refunded (paid, partially refunded, pending, refunded); pending payment, cancelled, failed are not sales',
  grossRevenue:
    'sum of order_total over summary-scope orders (shipping, fees and tax included; never reduced by refunds)',
  refunds: 'sum of refunded_total over summary-scope orders (= the sum of their refunds)',
  guestOrders: 'orders without customer (no customer_id, no billing_email) whose status is in summary scope',
  repeatCustomerRate: 'customers with >= 2 summary-scope orders / customers',
  avgLifespanDays:
    'mean over customers of (last - first) summary-scope order date, in days (dates read as UTC)',
  acceptsMarketing: 'the layouts have no marketing-consent column: no consents',
  money: 'EUR, exact cents (2 decimals in the files; shipping_total unformatted, e.g. 4.9)',
} as const;

export interface WooExpected {
  summary: {
    customers: number;
    orders: number;
    guestOrders: number;
    grossRevenueCents: number;
    refundsCents: number;
    netRevenueCents: number;
    repeatCustomerRate: number;
    avgLifespanDays: number;
  };
  /** What importing each file reports. */
  files: {
    ordersByItem: FileFigures;
    ordersByOrder: FileFigures;
    customers: { rows: number; registeredRows: number; guestRows: number; inserted: number; updated: number };
  };
  figures: {
    ordersInFiles: number;
    draftOrders: number;
    statuses: Record<string, number>;
    distinctCustomersAllOrders: number;
    registeredCustomersWithoutOrders: number;
    ordersWithoutEmail: number;
    ordersWithCoupon: number;
    ordersWithRefunds: number;
    caseVariantEmailOrders: number;
    lineItems: number;
  };
  acceptsMarketing: null;
  /** Every order of the files but drafts, as Retain should store it (status by `WOO_RULES.statuses`). */
  orders: {
    id: string;
    customer: string | null;
    status: string;
    totalCents: number;
    refundedCents: number;
    lines: number;
  }[];
}

interface FileFigures {
  /** Data records (rows after the header). */
  rows: number;
  inserted: number;
  /** Rows skipped as checkout drafts. */
  skippedDraftRows: number;
  refundsInserted: number;
  guestOrders: number;
  customersCreated: number;
}

export interface WooStore {
  files: { ordersByItem: string; ordersByOrder: string; customers: string };
  expected: WooExpected;
  asOf: string;
}

const FIRST = [
  'Zoë',
  'Jürgen',
  'Åsa',
  'José',
  'Łukasz',
  'Ólafur',
  'Søren',
  'Renée',
  'François',
  'Małgorzata',
  'Niamh',
  'Chloé',
  'Björn',
  'Inès',
  'Ana',
  'Marta',
  'Yusuf',
  'Aiko',
  '美咲',
  'Олег',
  'Emma',
  'Liam',
  'Sofia',
  'Lukas',
  'Mia',
  'Hugo',
  'Ella',
  'Noah',
  'Anaïs',
  'Jörg',
];
const LAST = [
  'Müller',
  'Østergaard',
  'García',
  'Nowak',
  "O'Brien",
  'Dvořák',
  'Lefèvre',
  'Sánchez',
  'Schmidt',
  'Bernard',
  'Rossi',
  'Jensen',
  'Kowalski',
  'Sørensen',
  'Ó Súilleabháin',
  '山田',
  'Иванов',
  'Smith',
  'van der Berg',
  'Le Gall',
  'Brandão',
  'Weiß',
];
const PLACES: [country: string, city: string, postcode: string, state: string][] = [
  ['DE', 'München', '80331', 'BY'],
  ['DE', 'Köln', '50667', 'NW'],
  ['FR', 'Besançon', '25000', ''],
  ['AT', 'Wien', '1010', ''],
  ['NL', 'Den Haag', '2511', ''],
  ['ES', 'A Coruña', '15001', 'C'],
  ['SE', 'Malmö', '211 20', ''],
  ['DK', 'Århus', '8000', ''],
  ['PL', 'Łódź', '90-001', ''],
  ['IE', 'Dún Laoghaire', 'A96', 'D'],
  ['JP', '札幌', '060-0001', 'Hokkaido'],
];
const PRODUCTS: { id: number; name: string; sku: string; cents: number; meta: string }[] = [
  ['Teekanne „Fjord“, 1,2 l', 'TEA-POT-12', 3490, ''],
  ['Mug "Fennel" 350 ml', 'MUG-FEN', 1290, ''],
  ['Café crème blend 250 g', 'COF-CREME-250', 890, 'Mahlgrad=Espresso'],
  ['Wool socks — size 38–41', 'SOCK-3841', 1590, 'Größe=38–41,Farbe=Blå'],
  ['Linen tea towel, blue', '', 990, ''],
  ['Gift card €25', 'GIFT-25', 2500, ''],
  ['Smørrebrød board (oak)', 'BOARD-OAK', 4200, ''],
  ['Matcha 30 g; ceremonial', 'TEA-MATCHA', 2190, ''],
  ['Candle: Birch & Smoke', 'CNDL-BIRCH', 1850, ''],
  ['Rye crispbread 4×', '', 650, ''],
  ['Pour-over kettle 0,8 l', 'KETTLE-08', 5900, ''],
  ['Honey | Heather 500 g', 'HONEY-HEATH', 1150, ''],
  ['Espresso cups (2 pcs)', 'CUP-ESP-2', 1990, ''],
  ['Knit beanie', 'BEANIE', 2400, 'Farbe=Grün'],
  ['Sea-salt caramels 200 g', 'CARAMEL-200', 790, ''],
  ['Ceramic dripper V60', 'DRIP-V60', 2290, ''],
  ['Filter papers ×100', 'FILTER-100', 590, ''],
  ['Lingonberry jam 340 g', 'JAM-LING', 690, ''],
  ['Apron "Fika"', 'APRON-FIKA', 3200, ''],
  ['Chai concentrate 1 l', 'CHAI-1L', 1490, ''],
  ['Thermos 0,5 l', 'THERMOS-05', 2890, ''],
  ['Cinnamon buns kit', '', 1690, ''],
  ['Grinder, hand (burr)', 'GRIND-HAND', 6900, ''],
  ['Oat biscuits 150 g', 'OAT-150', 450, ''],
].map(([name, sku, cents, meta], i) => ({
  id: 100 + i * 7,
  name: name as string,
  sku: sku as string,
  cents: cents as number,
  meta: meta as string,
}));

const NOTES = [
  'Bitte beim Nachbarn abgeben,\nHaus 3 "Hinterhof"',
  'Gift — please no invoice in the parcel.\nThanks!',
  '-- leave at the door --',
  '+1 extra bag please',
  'Ring twice; the bell is broken',
  'Kein Plastik bitte.\r\nDanke, Jürgen',
];
const REASONS = ['Damaged: lid cracked; replaced', 'Customer changed mind', 'Late delivery | goodwill', ''];

type Status =
  'completed' | 'processing' | 'on-hold' | 'pending' | 'cancelled' | 'failed' | 'refunded' | 'checkout-draft';
const STATUS_WEIGHTS: [Status, number][] = [
  ['completed', 0.66],
  ['processing', 0.07],
  ['on-hold', 0.04],
  ['pending', 0.04],
  ['cancelled', 0.05],
  ['failed', 0.04],
  ['refunded', 0.05],
  ['checkout-draft', 0.05],
];
const SALE: ReadonlySet<Status> = new Set(['completed', 'processing', 'on-hold', 'refunded']);

interface Person {
  first: string;
  last: string;
  email: string;
  phone: string;
  place: [string, string, string, string];
  street: string;
  company: string;
}
interface Registered extends Person {
  id: number;
  billingEmail: string;
  registeredAt: number;
}
interface Line {
  itemId: number;
  product: (typeof PRODUCTS)[number];
  qty: number;
  subtotal: number;
  total: number;
  subtotalTax: number;
  totalTax: number;
  refunded: number;
  refundedQty: number;
}
interface Refund {
  id: number;
  at: number;
  amount: number;
  reason: string;
}
interface Order {
  id: number;
  at: number;
  status: Status;
  customerId: number;
  billing: Person;
  /** The billing email as written on this order (case variants included); '' when none. */
  writtenEmail: string;
  lines: Line[];
  coupon: { code: string; amount: number } | null;
  shipping: number;
  shippingTax: number;
  fee: number;
  feeTax: number;
  tax: number;
  discount: number;
  total: number;
  refunds: Refund[];
  note: string;
  payment: string;
}

const DAY = 86_400_000;
const START = Date.UTC(2023, 0, 1);
const END = Date.UTC(2025, 0, 1);
const REFUNDS_UNTIL = Date.UTC(2025, 0, 31);
const VAT = 0.19;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const stamp = (t: number) => {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
};
const money = (cents: number) => (cents / 100).toFixed(2);
const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[øØ]/g, 'o')
    .replace(/[łŁ]/g, 'l')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z]/g, '');

/** PHP's fputcsv: quotes a cell holding a delimiter, quote, backslash, space, tab or line break. */
function csvCell(v: string | number): string {
  const s = String(v);
  return /[,"\\\s]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
/** The plugin's formula guard: a cell starting with = + - @ gets a leading '. */
const guard = (s: string) => (/^[=+\-@]/.test(s) ? `'${s}` : s);
const csvRow = (cells: (string | number)[]) => cells.map((c) => csvCell(guard(String(c)))).join(',') + '\n';
/** The plugin's pipe-delimited item: `key:value|…`, with `:`, `|`, `;` escaped by a backslash. */
const esc = (s: string | number) => String(s).replace(/([:|;])/g, '\\$1');
const pipeItem = (fields: [string, string | number][]) =>
  fields.map(([k, v]) => `${esc(k)}:${esc(v)}`).join('|');

export function generateWooStore(seed = 19): WooStore {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const chance = (p: number) => rand() < p;
  const usedEmails = new Set<string>();
  const person = (domainHint: number): Person => {
    const first = pick(FIRST);
    const last = pick(LAST);
    let local = `${ascii(first) || 'kunde'}.${ascii(last) || 'kunde'}`;
    const domain = ['example.de', 'example.fr', 'post.example', 'mail.example.se'][domainHint % 4]!;
    let n = 1;
    while (usedEmails.has(`${local}@${domain}`)) local = `${local.replace(/\d+$/, '')}${++n}`;
    usedEmails.add(`${local}@${domain}`);
    const place = pick(PLACES);
    return {
      first,
      last,
      email: `${local}@${domain}`,
      phone: chance(0.35)
        ? ''
        : chance(0.5)
          ? `+49 30 ${1000000 + Math.floor(rand() * 8999999)}`
          : `0${Math.floor(rand() * 1e9)}`,
      place,
      street: `${pick(['Hauptstraße', 'Rue de la Paix', 'Østerbrogade', 'Calle Mayor', 'ul. Piotrkowska'])} ${1 + Math.floor(rand() * 120)}`,
      company: chance(0.1) ? pick(['Café Krümel GmbH', 'Fika & Co, AB', 'Atelier "Lin"']) : '',
    };
  };

  // Registered customers (WordPress user ids with gaps: other users share the sequence).
  const registered: Registered[] = [];
  let uid = 2;
  for (let i = 0; i < 470; i++) {
    uid += 1 + Math.floor(rand() * 3);
    const p = person(i);
    registered.push({
      ...p,
      id: uid,
      billingEmail: chance(0.08) ? `${ascii(p.first) || 'rechnung'}.billing${uid}@example.com` : p.email,
      registeredAt: Date.UTC(2022, 6, 1) + Math.floor(rand() * (END - Date.UTC(2022, 6, 1) - 60 * DAY)),
    });
  }
  // Guests: their own emails, and a few who check out as guests with the email of an account.
  const guests: Person[] = [];
  for (let i = 0; i < 170; i++) guests.push(person(i + 1));
  for (let i = 0; i < 6; i++) {
    const r = registered[i * 37]!;
    guests.push({ ...r, email: r.email });
  }

  const orders: Order[] = [];
  let orderId = 1200;
  let itemId = 5000;
  let refundId = 90000;
  const N = 1500;
  const caseVariant = (e: string) =>
    chance(0.5)
      ? e.toUpperCase()
      : e.replace(/^./, (c) => c.toUpperCase()).replace(/@(.)/, (_, c: string) => `@${c.toUpperCase()}`);
  const variantGuests = new Set(guests.slice(0, 24).map((g) => g.email));
  for (let k = 0; k < N; k++) {
    orderId += 1 + Math.floor(rand() * 4);
    const at = START + Math.floor(((k + rand()) / N) * (END - START - 3600_000));
    let w = rand();
    let status: Status = 'completed';
    for (const [s, p] of STATUS_WEIGHTS) {
      if (w < p) {
        status = s;
        break;
      }
      w -= p;
    }
    // Customer: registered (skewed toward heavy buyers, registered before the order), guest, or no email.
    let customerId = 0;
    let billing: Person;
    let email: string;
    const who = rand();
    if (who < 0.7) {
      let r = registered[Math.floor(registered.length * Math.pow(rand(), 1.7))]!;
      if (r.registeredAt > at) r = registered.find((x) => x.registeredAt <= at) ?? r;
      customerId = r.id;
      billing = r;
      email = r.billingEmail;
    } else if (who < 0.985) {
      const g = guests[Math.floor(guests.length * Math.pow(rand(), 1.3))]!;
      billing = g;
      email = g.email;
    } else {
      billing = person(k);
      email = '';
    }
    const writtenEmail =
      email && (variantGuests.has(email) ? chance(0.5) : chance(0.04)) ? caseVariant(email) : email;
    // Lines, coupon, shipping, fee, tax.
    const nLines = 1 + Math.floor(Math.pow(rand(), 1.8) * 4);
    const chosen = new Set<number>();
    while (chosen.size < nLines) chosen.add(Math.floor(rand() * PRODUCTS.length));
    const pct = chance(0.2) ? pick([10, 15, 20]) : 0;
    const lines: Line[] = [...chosen].map((pi) => {
      const product = PRODUCTS[pi]!;
      const qty = 1 + Math.floor(Math.pow(rand(), 2) * 3);
      const subtotal = product.cents * qty;
      const total = subtotal - Math.round((subtotal * pct) / 100);
      return {
        itemId: ++itemId,
        product,
        qty,
        subtotal,
        total,
        subtotalTax: Math.round(subtotal * VAT),
        totalTax: Math.round(total * VAT),
        refunded: 0,
        refundedQty: 0,
      };
    });
    const itemsTotal = lines.reduce((s, l) => s + l.total, 0);
    const discount = lines.reduce((s, l) => s + l.subtotal - l.total, 0);
    const shipping = itemsTotal >= 5000 ? 0 : 490;
    const shippingTax = Math.round(shipping * VAT);
    const fee = chance(0.04) ? 200 : 0;
    const feeTax = Math.round(fee * VAT);
    const tax = lines.reduce((s, l) => s + l.totalTax, 0) + shippingTax + feeTax;
    const total = itemsTotal + shipping + fee + tax;
    const order: Order = {
      id: orderId,
      at,
      status,
      customerId,
      billing,
      writtenEmail,
      lines,
      coupon: pct ? { code: `fika${pct}`, amount: discount } : null,
      shipping,
      shippingTax,
      fee,
      feeTax,
      tax,
      discount,
      total,
      refunds: [],
      note: chance(0.08) ? pick(NOTES) : '',
      payment: fee ? 'cod' : pick(['stripe', 'paypal', 'bacs']),
    };
    const refundAt = (after: number) =>
      Math.min(after + (1 + Math.floor(rand() * 30)) * DAY + 3_600_000, REFUNDS_UNTIL);
    if (status === 'refunded') {
      // Refunded in full: once, or in two parts (a partial first, the rest later).
      const first = chance(0.3) ? Math.round(total * 0.4) : total;
      order.refunds.push({ id: ++refundId, at: refundAt(at), amount: first, reason: pick(REASONS) });
      if (first < total)
        order.refunds.push({
          id: ++refundId,
          at: refundAt(order.refunds[0]!.at),
          amount: total - first,
          reason: pick(REASONS),
        });
      for (const l of lines) {
        l.refunded = l.total + l.totalTax;
        l.refundedQty = l.qty;
      }
    } else if ((status === 'completed' || status === 'processing') && chance(0.08)) {
      // One line refunded (its total and tax), the order keeps its status.
      const l = lines[Math.floor(rand() * lines.length)]!;
      if (l.total + l.totalTax < total) {
        l.refunded = l.total + l.totalTax;
        l.refundedQty = l.qty;
        order.refunds.push({ id: ++refundId, at: refundAt(at), amount: l.refunded, reason: pick(REASONS) });
      }
    }
    orders.push(order);
  }

  const refundedTotal = (o: Order) => o.refunds.reduce((s, r) => s + r.amount, 0);
  const keyOf = (o: Order) => (o.customerId > 0 ? `wc-${o.customerId}` : o.writtenEmail.trim().toLowerCase());

  // ---- the files ----
  const orderCells = (o: Order): Record<string, string | number> => {
    const b = o.billing;
    const [country, city, postcode, state] = b.place;
    return {
      order_id: o.id,
      order_number: o.id,
      order_number_formatted: `FF-${o.id}`,
      date: stamp(o.at),
      status: o.status,
      shipping_total: String(o.shipping / 100),
      shipping_tax_total: money(o.shippingTax),
      fee_total: money(o.fee),
      fee_tax_total: money(o.feeTax),
      tax_total: money(o.tax),
      discount_total: money(o.discount),
      order_total: money(o.total),
      refunded_total: money(refundedTotal(o)),
      order_currency: 'EUR',
      payment_method: o.payment,
      shipping_method: o.shipping ? 'Flat rate' : 'Free shipping',
      customer_id: o.customerId,
      billing_first_name: b.first,
      billing_last_name: b.last,
      billing_company: b.company,
      billing_email: o.writtenEmail,
      billing_phone: b.phone,
      billing_address_1: b.street,
      billing_address_2: '',
      billing_postcode: postcode,
      billing_city: city,
      billing_state: state,
      billing_country: country,
      shipping_first_name: b.first,
      shipping_last_name: b.last,
      shipping_address_1: b.street,
      shipping_address_2: '',
      shipping_postcode: postcode,
      shipping_city: city,
      shipping_state: state,
      shipping_country: country,
      shipping_company: b.company,
      customer_note: o.note,
      shipping_items: pipeItem([
        ['id', o.id * 10 + 1],
        ['method_id', o.shipping ? 'flat_rate:1' : 'free_shipping:2'],
        ['method_title', o.shipping ? 'Flat rate' : 'Free shipping'],
        ['total', money(o.shipping)],
      ]),
      fee_items: o.fee
        ? pipeItem([
            ['id', o.id * 10 + 2],
            ['title', 'Nachnahme'],
            ['tax_class', ''],
            ['total', money(o.fee)],
            ['total_tax', money(o.feeTax)],
          ])
        : '',
      tax_items: pipeItem([
        ['id', o.id * 10 + 3],
        ['rate_id', 1],
        ['code', 'DE-MWST-1'],
        ['title', 'MwSt.'],
        ['total', money(o.tax)],
        ['compound', ''],
      ]),
      coupon_items: o.coupon
        ? pipeItem([
            ['id', o.id * 10 + 4],
            ['code', o.coupon.code],
            ['amount', money(o.coupon.amount)],
            ['description', 'Fika: spring; autumn'],
          ])
        : '',
      order_notes: [
        `Order status changed from Pending payment to ${o.status}.`,
        ...(o.refunds.length ? [`Refunded ${money(refundedTotal(o))} €`] : []),
      ].join('|'),
      download_permissions_granted: o.lines.some((l) => l.product.sku === 'GIFT-25') ? 1 : 0,
    };
  };
  const lineCells = (l: Line) => ({
    id: l.itemId,
    name: l.product.name,
    product_id: l.product.id,
    sku: l.product.sku,
    quantity: l.qty,
    subtotal: money(l.subtotal),
    subtotal_tax: money(l.subtotalTax),
    total: money(l.total),
    total_tax: money(l.totalTax),
    refunded: money(l.refunded),
    refunded_qty: l.refundedQty ? -l.refundedQty : 0,
    meta: l.product.meta,
  });
  // The billing address columns, in the order both the orders and the customers exports give them.
  const BILLING_COLUMNS = [
    'billing_first_name',
    'billing_last_name',
    'billing_company',
    'billing_email',
    'billing_phone',
    'billing_address_1',
    'billing_address_2',
    'billing_postcode',
    'billing_city',
    'billing_state',
    'billing_country',
  ];
  // The order-level columns both layouts share, in their order.
  const ORDER_COLUMNS = [
    'date',
    'status',
    'shipping_total',
    'shipping_tax_total',
    'fee_total',
    'fee_tax_total',
    'tax_total',
    'discount_total',
    'order_total',
    'refunded_total',
    'order_currency',
    'payment_method',
    'shipping_method',
    'customer_id',
    ...BILLING_COLUMNS,
    'shipping_first_name',
    'shipping_last_name',
    'shipping_address_1',
    'shipping_address_2',
    'shipping_postcode',
    'shipping_city',
    'shipping_state',
    'shipping_country',
    'shipping_company',
    'customer_note',
  ];
  const ITEM_HEADER = [
    'order_id',
    'order_number',
    ...ORDER_COLUMNS,
    'item_id',
    'item_product_id',
    'item_name',
    'item_sku',
    'item_quantity',
    'item_subtotal',
    'item_subtotal_tax',
    'item_total',
    'item_total_tax',
    'item_refunded',
    'item_refunded_qty',
    'item_meta',
    'shipping_items',
    'fee_items',
    'tax_items',
    'coupon_items',
    'order_notes',
    'download_permissions_granted',
  ];
  const ORDER_HEADER = [
    'order_id',
    'order_number',
    'order_number_formatted',
    ...ORDER_COLUMNS,
    'line_items',
    'shipping_items',
    'fee_items',
    'tax_items',
    'coupon_items',
    'refunds',
    'order_notes',
    'download_permissions_granted',
  ];
  // The 2024 header keeps the plugin's (renamed) column for download permissions.
  const split = Date.UTC(2024, 0, 1);
  let ordersByItem = ITEM_HEADER.join(',') + '\n';
  let ordersByOrder = ORDER_HEADER.join(',') + '\n';
  for (const o of orders) {
    const base = orderCells(o);
    if (o.at < split) {
      for (const l of o.lines) {
        const c = lineCells(l);
        const row: Record<string, string | number> = {
          ...base,
          item_id: c.id,
          item_product_id: c.product_id,
          item_name: c.name,
          item_sku: c.sku,
          item_quantity: c.quantity,
          item_subtotal: c.subtotal,
          item_subtotal_tax: c.subtotal_tax,
          item_total: c.total,
          item_total_tax: c.total_tax,
          item_refunded: c.refunded,
          item_refunded_qty: c.refunded_qty,
          item_meta: c.meta,
        };
        ordersByItem += csvRow(ITEM_HEADER.map((h) => row[h] ?? ''));
      }
    } else {
      const row: Record<string, string | number> = {
        ...base,
        line_items: o.lines.map((l) => pipeItem(Object.entries(lineCells(l)))).join(';'),
        refunds: o.refunds
          .map((r) =>
            pipeItem([
              ['id', r.id],
              ['date', stamp(r.at)],
              ['amount', money(r.amount)],
              ['reason', r.reason],
            ]),
          )
          .join(';'),
      };
      ordersByOrder += csvRow(ORDER_HEADER.map((h) => row[h] ?? ''));
    }
  }

  // Customers file: every registered customer, then one row per guest email (as one of its orders wrote it).
  const CUSTOMER_HEADER = [
    'customer_id',
    'first_name',
    'last_name',
    'email',
    'date_registered',
    ...BILLING_COLUMNS,
    'shipping_first_name',
    'shipping_last_name',
    'shipping_company',
    'shipping_address_1',
    'shipping_address_2',
    'shipping_postcode',
    'shipping_city',
    'shipping_state',
    'shipping_country',
  ];
  const customerRow = (id: number, p: Person, email: string, billingEmail: string, registeredAt: string) => {
    const [country, city, postcode, state] = p.place;
    return csvRow([
      id,
      p.first,
      p.last,
      email,
      registeredAt,
      p.first,
      p.last,
      p.company,
      billingEmail,
      p.phone,
      p.street,
      '',
      postcode,
      city,
      state,
      country,
      p.first,
      p.last,
      p.company,
      p.street,
      '',
      postcode,
      city,
      state,
      country,
    ]);
  };
  let customers = CUSTOMER_HEADER.join(',') + '\n';
  for (const r of registered)
    customers += customerRow(r.id, r, r.email, r.billingEmail, stamp(r.registeredAt));
  const guestRows = new Map<string, Order>();
  for (const o of orders)
    if (o.customerId === 0 && o.writtenEmail && o.status !== 'checkout-draft') {
      const key = keyOf(o);
      if (!guestRows.has(key)) guestRows.set(key, o);
    }
  for (const o of guestRows.values())
    customers += customerRow(0, o.billing, o.writtenEmail, o.writtenEmail, stamp(o.at));

  // ---- expected figures, from the objects ----
  const real = orders.filter((o) => o.status !== 'checkout-draft');
  const scope = real.filter((o) => SALE.has(o.status) && keyOf(o) !== '');
  const byCustomer = new Map<string, Order[]>();
  for (const o of scope) byCustomer.set(keyOf(o), [...(byCustomer.get(keyOf(o)) ?? []), o]);
  const gross = scope.reduce((s, o) => s + o.total, 0);
  const refunds = scope.reduce((s, o) => s + refundedTotal(o), 0);
  let repeat = 0;
  let lifespan = 0;
  for (const os of byCustomer.values()) {
    if (os.length >= 2) repeat++;
    const ts = os.map((o) => o.at);
    lifespan += (Math.max(...ts) - Math.min(...ts)) / DAY;
  }
  const fileFigures = (inFile: Order[], createdBefore: Set<string>): FileFigures => {
    const created = new Set<string>();
    for (const o of inFile)
      if (o.status !== 'checkout-draft' && keyOf(o) && !createdBefore.has(keyOf(o))) created.add(keyOf(o));
    for (const k of created) createdBefore.add(k);
    const byItem = inFile.length > 0 && inFile[0]!.at < split;
    return {
      rows: byItem ? inFile.reduce((s, o) => s + o.lines.length, 0) : inFile.length,
      inserted: inFile.filter((o) => o.status !== 'checkout-draft').length,
      skippedDraftRows: inFile
        .filter((o) => o.status === 'checkout-draft')
        .reduce((s, o) => s + (byItem ? o.lines.length : 1), 0),
      refundsInserted: inFile
        .filter((o) => o.status !== 'checkout-draft' && o.refunds.length > 0)
        .reduce((s, o) => s + (byItem ? 1 : o.refunds.length), 0),
      guestOrders: inFile.filter((o) => o.status !== 'checkout-draft' && keyOf(o) === '').length,
      customersCreated: created.size,
    };
  };
  const known = new Set<string>();
  const ordersByItemFigures = fileFigures(
    orders.filter((o) => o.at < split),
    known,
  );
  const ordersByOrderFigures = fileFigures(
    orders.filter((o) => o.at >= split),
    known,
  );
  const fileKeys = [...registered.map((r) => `wc-${r.id}`), ...guestRows.keys()];
  const statuses: Record<string, number> = {};
  for (const o of orders) statuses[o.status] = (statuses[o.status] ?? 0) + 1;
  const orderKeys = new Set(real.map(keyOf).filter((k) => k !== ''));
  return {
    files: { ordersByItem, ordersByOrder, customers },
    asOf: '2025-03-01',
    expected: {
      summary: {
        customers: byCustomer.size,
        orders: scope.length,
        guestOrders: real.filter((o) => SALE.has(o.status) && keyOf(o) === '').length,
        grossRevenueCents: gross,
        refundsCents: refunds,
        netRevenueCents: gross - refunds,
        repeatCustomerRate: repeat / byCustomer.size,
        avgLifespanDays: lifespan / byCustomer.size,
      },
      files: {
        ordersByItem: ordersByItemFigures,
        ordersByOrder: ordersByOrderFigures,
        customers: {
          rows: fileKeys.length,
          registeredRows: registered.length,
          guestRows: guestRows.size,
          inserted: fileKeys.filter((k) => !known.has(k)).length,
          updated: fileKeys.filter((k) => known.has(k)).length,
        },
      },
      figures: {
        ordersInFiles: orders.length,
        draftOrders: statuses['checkout-draft'] ?? 0,
        statuses,
        distinctCustomersAllOrders: orderKeys.size,
        registeredCustomersWithoutOrders: registered.filter((r) => !orderKeys.has(`wc-${r.id}`)).length,
        ordersWithoutEmail: real.filter((o) => keyOf(o) === '').length,
        ordersWithCoupon: real.filter((o) => o.coupon).length,
        ordersWithRefunds: real.filter((o) => o.refunds.length > 0).length,
        caseVariantEmailOrders: real.filter((o) => o.writtenEmail !== o.writtenEmail.toLowerCase()).length,
        lineItems: orders.reduce((s, o) => s + o.lines.length, 0),
      },
      acceptsMarketing: null,
      orders: real.map((o) => {
        const refunded = refundedTotal(o);
        const paid = o.status === 'completed' || o.status === 'processing';
        const status = paid
          ? refunded > 0 && refunded < o.total
            ? 'partially_refunded'
            : 'paid'
          : (({ 'on-hold': 'pending', pending: 'unpaid' } as Record<string, string>)[o.status] ?? o.status);
        return {
          id: String(o.id),
          customer: keyOf(o) || null,
          status,
          totalCents: o.total,
          refundedCents: refunded,
          lines: o.lines.length,
        };
      }),
    },
  };
}
