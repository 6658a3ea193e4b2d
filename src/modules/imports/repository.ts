import { appendConsentLedger, resolveAliasesIn } from '../customers/repository.js';
import { linkIdentities, type IdentityOutcome } from '../events/repository.js';
import type { Dialect, Queryable, SqlValue } from '../../storage/port.js';
import { actionsTable, mergeStaged, type MergeCounts } from '../../storage/merge.js';
import { recordFrom } from '../outbox/service.js';
import { CONSENT_CHANNELS, CUSTOMER_FIELDS, MAX_ORDER_LINES, SALE_STATUSES } from './schema.js';
import { MAX_AMOUNT_MINOR } from '../../shared/money.js';
import type { CustomerRow, EventRow, OrderLineRow, ProductRow, RefundRow, SpendRow } from './schema.js';

/**
 * Staging + merge SQL for imports. Rows stream into temp tables with COPY; set-based SQL then groups
 * lines into orders, resolves customers, classifies insert/update/same and applies, in one transaction.
 */

interface StagingTable<R> {
  table: string;
  columns: string[];
  ddl: string;
  toRow(line: number, r: R): SqlValue[];
}

const ORDER_LINES: StagingTable<OrderLineRow> = {
  table: 'stg_order_lines',
  columns: [
    'line_no',
    'order_ext',
    'customer_ext',
    'ordered_at',
    'currency',
    'has_line',
    'sku',
    'title',
    'quantity',
    'unit_price_minor',
    'line_total_minor',
    'order_total_minor',
    'discount_minor',
    'shipping_minor',
    'tax_minor',
    'channel',
    'source',
    'status',
    'country',
    'email',
    'email_consent',
    'discount_codes',
  ],
  // discount_codes: the row's codes in their one form, comma-joined (schema.ts `discountCodes`).
  ddl: `line_no BIGINT, order_ext TEXT, customer_ext TEXT, ordered_at TIMESTAMP, currency TEXT, has_line BOOLEAN, sku TEXT, title TEXT,
        quantity INTEGER, unit_price_minor BIGINT, line_total_minor BIGINT, order_total_minor BIGINT, discount_minor BIGINT,
        shipping_minor BIGINT, tax_minor BIGINT, channel TEXT, source TEXT, status TEXT, country TEXT, email TEXT, email_consent TEXT,
        discount_codes TEXT`,
  toRow: (line, r) => [
    line,
    r.orderId,
    r.customerId,
    r.orderedAt,
    r.currency,
    r.hasLine,
    r.sku,
    r.title,
    r.quantity,
    r.unitPriceMinor,
    r.lineTotalMinor,
    r.orderTotalMinor,
    r.discountMinor,
    r.shippingMinor,
    r.taxMinor,
    r.channel,
    r.source,
    r.status,
    r.country,
    r.email,
    r.emailConsent ?? null,
    r.discountCodes ?? null,
  ],
};

const REFUNDS: StagingTable<RefundRow> = {
  table: 'stg_refund_lines',
  columns: [
    'line_no',
    'refund_ext',
    'order_ext',
    'customer_ext',
    'amount_minor',
    'currency',
    'refunded_at',
    'reason',
  ],
  ddl: `line_no BIGINT, refund_ext TEXT, order_ext TEXT, customer_ext TEXT, amount_minor BIGINT, currency TEXT, refunded_at TIMESTAMP, reason TEXT`,
  toRow: (line, r) => [
    line,
    r.refundId,
    r.orderId,
    r.customerId,
    r.amountMinor,
    r.currency,
    r.refundedAt,
    r.reason,
  ],
};

const CUSTOMERS: StagingTable<CustomerRow> = {
  table: 'stg_customers_raw',
  columns: [
    'line_no',
    'external_id',
    ...CUSTOMER_FIELDS,
    ...CONSENT_CHANNELS.flatMap((c) => [`${c}_status`, `${c}_changed_at`, `${c}_source`]),
  ],
  ddl: `line_no BIGINT, external_id TEXT, email TEXT, phone TEXT, first_name TEXT, last_name TEXT, birthday DATE, country TEXT,
        acquisition_channel TEXT, created_at TIMESTAMP, locale TEXT, time_zone TEXT, ${CONSENT_CHANNELS.map((c) => `${c}_status TEXT, ${c}_changed_at TIMESTAMP, ${c}_source TEXT`).join(', ')}`,
  toRow: (line, r) => {
    const consent = CONSENT_CHANNELS.flatMap((c) => {
      const x = r.consents.find((k) => k.channel === c);
      return x ? [x.status, x.changedAt, x.source] : [null, null, null];
    });
    return [
      line,
      r.customerId,
      r.email,
      r.phone,
      r.firstName,
      r.lastName,
      r.birthday,
      r.country,
      r.acquisitionChannel,
      r.createdAt,
      r.locale,
      r.timeZone,
      ...consent,
    ];
  },
};

const PRODUCTS: StagingTable<ProductRow> = {
  table: 'stg_products_raw',
  columns: ['line_no', 'sku', 'title', 'category', 'price_minor', 'unit_cost_minor', 'currency'],
  ddl: `line_no BIGINT, sku TEXT, title TEXT, category TEXT, price_minor BIGINT, unit_cost_minor BIGINT, currency TEXT`,
  toRow: (line, r) => [line, r.sku, r.title, r.category, r.priceMinor, r.unitCostMinor, r.currency],
};

const SPEND: StagingTable<SpendRow> = {
  table: 'stg_spend_raw',
  columns: ['line_no', 'spent_on', 'channel', 'campaign', 'amount_minor', 'currency'],
  ddl: `line_no BIGINT, spent_on DATE, channel TEXT, campaign TEXT, amount_minor BIGINT, currency TEXT`,
  toRow: (line, r) => [line, r.spentOn, r.channel, r.campaign, r.amountMinor, r.currency],
};

const EVENTS: StagingTable<EventRow> = {
  table: 'stg_events_raw',
  columns: ['line_no', 'event_id', 'customer_ext', 'anonymous_id', 'type', 'properties', 'occurred_at'],
  ddl: `line_no BIGINT, event_id TEXT, customer_ext TEXT, anonymous_id TEXT, type TEXT, properties TEXT, occurred_at TIMESTAMP`,
  toRow: (line, r) => [
    line,
    r.eventId,
    r.customerId,
    r.anonymousId,
    r.type,
    JSON.stringify(r.properties),
    r.occurredAt,
  ],
};

export const STAGING = {
  orders: ORDER_LINES,
  refunds: REFUNDS,
  customers: CUSTOMERS,
  products: PRODUCTS,
  spend: SPEND,
  events: EVENTS,
};

/** Creates the (empty) temp staging tables for an import. */
export async function createStaging(tx: Queryable, tables: StagingTable<never>[]): Promise<void> {
  for (const t of tables) {
    await tx.exec(`DROP TABLE IF EXISTS ${t.table}`);
    await tx.exec(`CREATE TEMP TABLE ${t.table} (${t.ddl})`);
  }
}

export async function dropStaging(tx: Queryable, names: string[]): Promise<void> {
  for (const n of names) await tx.exec(`DROP TABLE IF EXISTS ${n}`);
}

/** Streams validated rows into a staging table. */
export function copyStaged<R>(
  tx: Queryable,
  t: StagingTable<R>,
  rows: AsyncIterable<readonly SqlValue[]>,
): Promise<number> {
  return tx.copyRows(t.table, t.columns, rows);
}

export interface RowError {
  line: number;
  reason: string;
}

/**
 * Line rows that repeat an earlier row of the same order exactly (every mapped value equal: a row
 * pasted or exported twice) are left out, so the order is not counted twice over. Returns how many,
 * and the first `limit` of them with the line they repeat.
 */
export async function dropRepeatedOrderLines(
  tx: Queryable,
  limit: number,
): Promise<{ count: number; repeats: { line: number; sameAs: number; order: string }[] }> {
  const cols = ORDER_LINES.columns.filter((c) => c !== 'line_no');
  // Groups of equal rows first (a GROUP BY: ~3× cheaper than a window over every row), then the
  // rows of the few groups with repeats.
  await tx.exec(`DROP TABLE IF EXISTS stg_repeated_groups`);
  await tx.exec(
    `CREATE TEMP TABLE stg_repeated_groups AS
     SELECT ${cols.join(', ')}, MIN(line_no) AS first_line FROM stg_order_lines WHERE has_line
     GROUP BY ${cols.join(', ')} HAVING COUNT(*) > 1`,
  );
  await tx.exec(`DROP TABLE IF EXISTS stg_repeated_lines`);
  await tx.exec(
    `CREATE TEMP TABLE stg_repeated_lines AS
     SELECT l.line_no, g.first_line, l.order_ext FROM stg_order_lines l
     JOIN stg_repeated_groups g ON g.order_ext = l.order_ext
       AND ${cols
         .filter((c) => c !== 'order_ext')
         .map((c) => `l.${c} IS NOT DISTINCT FROM g.${c}`)
         .join(' AND ')}
     WHERE l.has_line AND l.line_no <> g.first_line`,
  );
  const [n] = await tx.query<{ n: number }>(`SELECT COUNT(*) AS n FROM stg_repeated_lines`);
  const count = n?.n ?? 0;
  let repeats: { line: number; sameAs: number; order: string }[] = [];
  if (count > 0) {
    const rows = await tx.query<{ line_no: number; first_line: number; order_ext: string }>(
      `SELECT line_no, first_line, order_ext FROM stg_repeated_lines ORDER BY line_no LIMIT ${Math.max(0, Math.floor(limit))}`,
    );
    repeats = rows.map((r) => ({ line: r.line_no, sameAs: r.first_line, order: r.order_ext }));
    await tx.exec(`DELETE FROM stg_order_lines WHERE line_no IN (SELECT line_no FROM stg_repeated_lines)`);
  }
  await dropStaging(tx, ['stg_repeated_groups', 'stg_repeated_lines']);
  return { count, repeats };
}

/**
 * Orders the file states inconsistently or beyond what Retain keeps are rejected whole, each named at
 * its first line: rows of one order that disagree on the customer or the currency; more than
 * {@link MAX_ORDER_LINES} lines; line totals summing beyond the largest amount (MAX_AMOUNT_MINOR).
 */
export async function rejectInconsistentOrders(tx: Queryable): Promise<{ errors: RowError[]; rows: number }> {
  // MIN <> MAX rather than COUNT(DISTINCT): same answer without per-group hash sets.
  const having = `MIN(COALESCE(customer_ext, '')) <> MAX(COALESCE(customer_ext, '')) OR MIN(currency) <> MAX(currency)
       OR COUNT(*) > ${MAX_ORDER_LINES} OR COALESCE(SUM(line_total_minor), 0) > ${MAX_AMOUNT_MINOR}`;
  const bad = await tx.query<{
    order_ext: string;
    first_line: number;
    lines: number;
    customers: number;
    currencies: number;
    subtotal: string;
  }>(
    `SELECT order_ext, MIN(line_no) AS first_line, COUNT(*) AS lines,
            CASE WHEN MIN(COALESCE(customer_ext, '')) <> MAX(COALESCE(customer_ext, '')) THEN 2 ELSE 1 END AS customers,
            CASE WHEN MIN(currency) <> MAX(currency) THEN 2 ELSE 1 END AS currencies,
            CAST(COALESCE(SUM(line_total_minor), 0) AS TEXT) AS subtotal
     FROM stg_order_lines GROUP BY order_ext
     HAVING ${having}
     ORDER BY first_line`,
  );
  if (bad.length === 0) return { errors: [], rows: 0 };
  await tx.exec(
    `DELETE FROM stg_order_lines WHERE order_ext IN (
       SELECT order_ext FROM stg_order_lines GROUP BY order_ext HAVING ${having})`,
  );
  const why = (b: (typeof bad)[number]) =>
    b.customers > 1
      ? `its ${b.lines} rows disagree on customer_id`
      : b.currencies > 1
        ? `its ${b.lines} rows disagree on currency`
        : b.lines > MAX_ORDER_LINES
          ? `it has ${b.lines.toLocaleString('en-US')} lines, more than the ${MAX_ORDER_LINES.toLocaleString('en-US')} an order may have`
          : `its lines sum to ${b.subtotal} minor units, beyond the largest amount Retain stores (${MAX_AMOUNT_MINOR} minor units)`;
  return {
    errors: bad.map((b) => ({
      line: b.first_line,
      reason: `order ${b.order_ext}: ${why(b)}; the whole order was rejected`,
    })),
    rows: bad.reduce((s, b) => s + b.lines, 0),
  };
}

/**
 * Creates customers that orders/refunds/events reference but the store does not have yet (recording
 * `customer.created` for them); fills blanks.
 */
async function ensureCustomers(tx: Queryable, now: Date, source: string, dialect: Dialect): Promise<number> {
  await tx.exec(`DROP TABLE IF EXISTS stg_new_customers`);
  await tx.exec(
    `CREATE TEMP TABLE stg_new_customers AS
     SELECT customer_ext, MIN(email) AS email, MIN(country) AS country, MIN(first_at) AS first_at FROM (${source}) s
     WHERE customer_ext IS NOT NULL AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.external_id = s.customer_ext)
     GROUP BY customer_ext`,
  );
  const created = await tx.exec(
    `INSERT INTO customers (external_id, email, country, created_at, updated_at)
     SELECT customer_ext, email, country, first_at, $1::timestamp FROM stg_new_customers
     ORDER BY customer_ext
     ON CONFLICT DO NOTHING`,
    [now],
  );
  if (created > 0)
    await recordFrom(
      tx,
      dialect,
      {
        type: 'customer.created',
        from: `FROM stg_new_customers n JOIN customers c ON c.external_id = n.customer_ext`,
        customerId: 'c.customer_id',
        occurredAt: 'COALESCE(c.created_at, $2::timestamp)',
        payload: { external_id: 'c.external_id' },
        orderBy: 'c.customer_id',
      },
      now,
    );
  await tx.exec(`DROP TABLE stg_new_customers`);
  await tx.exec(
    `UPDATE customers AS c SET email = COALESCE(c.email, s.email), country = COALESCE(c.country, s.country)
     FROM (SELECT customer_ext, MIN(email) AS email, MIN(country) AS country FROM (${source}) x
           WHERE customer_ext IS NOT NULL GROUP BY customer_ext) s
     WHERE c.external_id = s.customer_ext AND ((c.email IS NULL AND s.email IS NOT NULL) OR (c.country IS NULL AND s.country IS NOT NULL))`,
  );
  return created;
}

const text = (c: string) => `COALESCE(CAST(${c} AS TEXT), '')`;

export interface OrderMergeResult extends MergeCounts {
  guestOrders: number;
  customersCreated: number;
  productsCreated: number;
  /** Customers whose email consent status an order in the file changed. */
  consentsChanged: number;
}

/** Groups staged lines into orders and merges them (and their lines) into the store. */
export async function mergeOrders(tx: Queryable, now: Date, dialect: Dialect): Promise<OrderMergeResult> {
  await resolveAliasesIn(tx, 'stg_order_lines', 'customer_ext');
  const customersCreated = await ensureCustomers(
    tx,
    now,
    `SELECT customer_ext, email, country, ordered_at AS first_at FROM stg_order_lines`,
    dialect,
  );
  await tx.exec(`DROP TABLE IF EXISTS stg_orders`);
  await tx.exec(
    `CREATE TEMP TABLE stg_orders AS
     SELECT s.order_ext AS external_id, c.customer_id, s.ordered_at, s.currency, s.subtotal_minor, s.discount_minor,
            s.shipping_minor, s.tax_minor,
            COALESCE(s.order_total_minor, s.subtotal_minor - s.discount_minor + s.shipping_minor + s.tax_minor) AS total_minor,
            s.channel, s.source, s.status, s.line_count,
            -- The digest covers the order's discount codes too (appended only when it has some, so an order
            -- without codes keeps the digest it always had): an order whose codes alone changed is an update.
            s.lines_digest || COALESCE('|codes:' || s.discount_codes, '') AS lines_digest, s.discount_codes
     FROM (
       SELECT order_ext, MIN(customer_ext) AS customer_ext, MIN(ordered_at) AS ordered_at, MIN(currency) AS currency,
              COALESCE(SUM(line_total_minor), 0) AS subtotal_minor, COALESCE(MAX(discount_minor), 0) AS discount_minor,
              COALESCE(MAX(shipping_minor), 0) AS shipping_minor, COALESCE(MAX(tax_minor), 0) AS tax_minor,
              MAX(order_total_minor) AS order_total_minor, MAX(channel) AS channel, MAX(source) AS source,
              MIN(status) AS status, CAST(COUNT(*) FILTER (WHERE has_line) AS INTEGER) AS line_count,
              MAX(discount_codes) AS discount_codes,
              -- Order-insensitive digest of the lines: a sum of 64-bit line hashes (cheap; string_agg+md5 was 4× slower).
              COALESCE(CAST(SUM(CASE WHEN has_line THEN ${dialect.hashText(['sku', 'title', 'quantity', 'unit_price_minor', 'line_total_minor'].map(text).join(` || ':' || `))} END) AS TEXT), '') AS lines_digest
       FROM stg_order_lines GROUP BY order_ext
     ) s LEFT JOIN customers c ON c.external_id = s.customer_ext`,
  );
  const counts = await mergeStaged(tx, {
    target: 'orders',
    staged: 'stg_orders',
    keys: ['external_id'],
    columns: [
      'customer_id',
      'ordered_at',
      'currency',
      'subtotal_minor',
      'discount_minor',
      'shipping_minor',
      'tax_minor',
      'total_minor',
      'channel',
      'source',
      'status',
      'line_count',
      'lines_digest',
    ],
    stamp: { imported_at: '$1::timestamp' },
    params: [now],
  });
  const actions = actionsTable({ staged: 'stg_orders' });
  if (counts.updated > 0) {
    await tx.exec(
      `DELETE FROM order_lines WHERE order_id IN (
         SELECT o.order_id FROM orders o JOIN ${actions} a ON a.external_id = o.external_id WHERE a.action = 'update')`,
    );
  }
  if (counts.inserted + counts.updated > 0) {
    await tx.exec(
      `INSERT INTO order_lines (order_id, line_no, customer_id, sku, title, quantity, unit_price_minor, line_total_minor)
       SELECT o.order_id, CAST(ROW_NUMBER() OVER (PARTITION BY l.order_ext ORDER BY l.line_no) AS INTEGER), o.customer_id,
              l.sku, l.title, l.quantity, l.unit_price_minor, l.line_total_minor
       FROM stg_order_lines l
       JOIN ${actions} a ON a.external_id = l.order_ext AND a.action IN ('insert', 'update')
       JOIN orders o ON o.external_id = l.order_ext
       WHERE l.has_line`,
    );
  }
  await replaceDiscountCodes(tx, actions, counts);
  if (counts.inserted > 0)
    await recordFrom(
      tx,
      dialect,
      {
        type: 'order.placed',
        from: `FROM ${actions} a JOIN orders o ON o.external_id = a.external_id WHERE a.action = 'insert'`,
        customerId: 'a.customer_id',
        occurredAt: 'a.ordered_at',
        payload: {
          order_id: 'o.order_id',
          external_id: 'a.external_id',
          total_minor: 'a.total_minor',
          currency: 'a.currency',
        },
        orderBy: 'a.ordered_at, o.order_id',
      },
      now,
    );
  const consentsChanged = await applyOrderConsents(tx, now, dialect);
  const productsCreated = await tx.exec(
    `INSERT INTO products (sku, title, currency, updated_at)
     SELECT sku, MIN(title), MIN(currency), $1::timestamp FROM stg_order_lines s
     WHERE has_line AND sku IS NOT NULL AND NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = s.sku)
     GROUP BY sku
     ON CONFLICT DO NOTHING`,
    [now],
  );
  const [guest] = await tx.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM stg_orders WHERE customer_id IS NULL`,
  );
  await tx.exec(
    `INSERT INTO settings (key, value)
     SELECT 'currency', currency FROM stg_orders GROUP BY currency ORDER BY COUNT(*) DESC, currency LIMIT 1
     ON CONFLICT DO NOTHING`,
  );
  await dropStaging(tx, [actions, 'stg_orders']);
  return { ...counts, guestOrders: guest?.n ?? 0, customersCreated, productsCreated, consentsChanged };
}

/**
 * The inserted and updated orders' discount codes replace the ones they had (`order_discount_codes`,
 * owned by the orders module): an order-level field, so any line's (MAX, as `discount`); the staged
 * text is already in its one form (trimmed, upper-cased, deduplicated, comma-joined), split here.
 */
async function replaceDiscountCodes(tx: Queryable, actions: string, counts: MergeCounts): Promise<void> {
  if (counts.updated > 0) {
    const stored = await tx.query(`SELECT 1 AS one FROM order_discount_codes LIMIT 1`);
    if (stored.length > 0)
      await tx.exec(
        `DELETE FROM order_discount_codes WHERE order_id IN (
           SELECT o.order_id FROM orders o JOIN ${actions} a ON a.external_id = o.external_id WHERE a.action = 'update')`,
      );
  }
  if (counts.inserted + counts.updated === 0) return;
  const staged = await tx.query(`SELECT 1 AS one FROM stg_orders WHERE discount_codes IS NOT NULL LIMIT 1`);
  if (staged.length === 0) return;
  await tx.exec(
    `INSERT INTO order_discount_codes (order_id, customer_id, code)
     SELECT o.order_id, o.customer_id, x.code
     FROM (SELECT s.external_id, unnest(string_to_array(s.discount_codes, ',')) AS code
           FROM stg_orders s JOIN ${actions} a ON a.external_id = s.external_id
           WHERE a.action IN ('insert', 'update') AND s.discount_codes IS NOT NULL) x
     JOIN orders o ON o.external_id = x.external_id`,
  );
}

/**
 * Email consents stated at orders (`email_consent`, Shopify's `Accepts Marketing`): per customer, the
 * one of their latest sale in the file, at that order's time, replaces the stored consent when it is
 * newer (a stored consent without a time counts as older). A customers file's consent without a time
 * is stamped with its import's time, so orders older than that export never override it. Returns the
 * number of customers whose consent status changed.
 */
async function applyOrderConsents(tx: Queryable, now: Date, dialect: Dialect): Promise<number> {
  const any = await tx.query(`SELECT 1 AS one FROM stg_order_lines WHERE email_consent IS NOT NULL LIMIT 1`);
  if (any.length === 0) return 0;
  await tx.exec(`DROP TABLE IF EXISTS stg_order_consents`);
  await tx.exec(
    `CREATE TEMP TABLE stg_order_consents AS
     SELECT c.customer_id, c.external_id, x.email_consent AS status, x.ordered_at, x.order_ext, k.status AS old_status
     FROM (
       SELECT o.*, ROW_NUMBER() OVER (PARTITION BY customer_ext ORDER BY ordered_at DESC, order_ext DESC) AS rn
       FROM (
         SELECT customer_ext, order_ext, MIN(ordered_at) AS ordered_at, MAX(email_consent) AS email_consent,
                MIN(status) AS status
         FROM stg_order_lines WHERE customer_ext IS NOT NULL GROUP BY customer_ext, order_ext
       ) o
       WHERE o.email_consent IS NOT NULL AND o.status IN (${SALE_STATUSES.map((x) => `'${x}'`).join(', ')})
     ) x
     JOIN customers c ON c.external_id = x.customer_ext
     LEFT JOIN customer_consents k ON k.customer_id = c.customer_id AND k.channel = 'email'
     WHERE x.rn = 1 AND (k.customer_id IS NULL OR k.changed_at IS NULL OR k.changed_at < x.ordered_at)`,
  );
  await tx.exec(
    `DELETE FROM customer_consents WHERE channel = 'email' AND customer_id IN (SELECT customer_id FROM stg_order_consents)`,
  );
  await tx.exec(
    `INSERT INTO customer_consents (customer_id, channel, status, changed_at, source)
     SELECT customer_id, 'email', status, ordered_at, 'order ' || order_ext FROM stg_order_consents`,
  );
  await appendConsentLedger(
    tx,
    `SELECT customer_id, 'email', status, 'order ' || order_ext, ordered_at, $1::timestamp, NULL, NULL, NULL
     FROM stg_order_consents ORDER BY customer_id`,
    [now],
  );
  const changed = await recordFrom(
    tx,
    dialect,
    {
      type: 'consent.changed',
      from: `FROM stg_order_consents s WHERE s.status IS DISTINCT FROM s.old_status`,
      customerId: 's.customer_id',
      occurredAt: 's.ordered_at',
      payload: {
        external_id: 's.external_id',
        channel: `CAST('email' AS TEXT)`,
        from: 's.old_status',
        to: 's.status',
      },
      orderBy: 's.customer_id',
    },
    now,
  );
  await dropStaging(tx, ['stg_order_consents']);
  return changed;
}

/** Groups staged refund rows (rows sharing a refund id are parts of one refund) and merges them. */
export async function mergeRefunds(
  tx: Queryable,
  now: Date,
  dialect: Dialect,
): Promise<MergeCounts & { customersCreated: number }> {
  await resolveAliasesIn(tx, 'stg_refund_lines', 'customer_ext');
  const customersCreated = await ensureCustomers(
    tx,
    now,
    `SELECT customer_ext, CAST(NULL AS TEXT) AS email, CAST(NULL AS TEXT) AS country, refunded_at AS first_at FROM stg_refund_lines`,
    dialect,
  );
  await tx.exec(`DROP TABLE IF EXISTS stg_refunds`);
  await tx.exec(
    `CREATE TEMP TABLE stg_refunds AS
     SELECT r.refund_ext AS external_id, o.order_id, COALESCE(c.customer_id, o.customer_id) AS customer_id,
            r.amount_minor, r.currency, r.refunded_at, r.reason
     FROM (SELECT refund_ext, MIN(order_ext) AS order_ext, MIN(customer_ext) AS customer_ext, SUM(amount_minor) AS amount_minor,
                  MIN(currency) AS currency, MIN(refunded_at) AS refunded_at, MIN(reason) AS reason
           FROM stg_refund_lines GROUP BY refund_ext) r
     LEFT JOIN customers c ON c.external_id = r.customer_ext
     LEFT JOIN orders o ON o.external_id = r.order_ext`,
  );
  const counts = await mergeStaged(tx, {
    target: 'refunds',
    staged: 'stg_refunds',
    keys: ['external_id'],
    columns: ['order_id', 'customer_id', 'amount_minor', 'currency', 'refunded_at', 'reason'],
  });
  const actions = actionsTable({ staged: 'stg_refunds' });
  if (counts.inserted > 0)
    await recordFrom(
      tx,
      dialect,
      {
        type: 'order.refunded',
        from: `FROM ${actions} a JOIN refunds r ON r.external_id = a.external_id WHERE a.action = 'insert'`,
        customerId: 'a.customer_id',
        occurredAt: 'a.refunded_at',
        payload: {
          refund_id: 'r.refund_id',
          external_id: 'a.external_id',
          order_id: 'a.order_id',
          amount_minor: 'a.amount_minor',
          currency: 'a.currency',
        },
        orderBy: 'a.refunded_at, r.refund_id',
      },
      now,
    );
  await dropStaging(tx, [actions, 'stg_refunds']);
  return { ...counts, customersCreated };
}

/** Keeps the last row per key (a later row in the file wins); returns how many were superseded. */
async function dedupe(
  tx: Queryable,
  raw: string,
  staged: string,
  keys: string[],
  select: string,
): Promise<number> {
  await tx.exec(`DROP TABLE IF EXISTS ${staged}`);
  await tx.exec(
    `CREATE TEMP TABLE ${staged} AS SELECT ${select} FROM ${raw}
     WHERE line_no IN (SELECT MAX(line_no) FROM ${raw} GROUP BY ${keys.join(', ')})`,
  );
  const [r] = await tx.query<{ n: number }>(
    `SELECT (SELECT COUNT(*) FROM ${raw}) - (SELECT COUNT(*) FROM ${staged}) AS n`,
  );
  return r?.n ?? 0;
}

export async function mergeCustomers(
  tx: Queryable,
  now: Date,
  dialect: Dialect,
): Promise<MergeCounts & { duplicates: number }> {
  const consentCols = CONSENT_CHANNELS.flatMap((c) => [`${c}_status`, `${c}_changed_at`, `${c}_source`]);
  // A row naming a merged customer updates the survivor — unless the file has the survivor's own
  // row too, which then wins (the merged one's row is left out, counted as a duplicate).
  const shadowed = await tx.exec(
    `DELETE FROM stg_customers_raw WHERE external_id IN (
       SELECT a.external_id FROM customer_aliases a JOIN customers c ON c.customer_id = a.customer_id
       WHERE c.external_id IN (SELECT external_id FROM stg_customers_raw))`,
  );
  await resolveAliasesIn(tx, 'stg_customers_raw', 'external_id');
  const duplicates =
    shadowed + (await dedupe(tx, 'stg_customers_raw', 'stg_customers', ['external_id'], '*'));
  // A field the file leaves out (no column, or an empty cell) keeps its stored value: a partial file
  // (ids and emails only, say) never wipes what other imports wrote. Consents likewise.
  // Consents take part in change detection: compare against the current consent rows.
  await tx.exec(`DROP TABLE IF EXISTS stg_customers_cmp`);
  await tx.exec(
    `CREATE TEMP TABLE stg_customers_cmp AS
     SELECT s.external_id,
            ${CUSTOMER_FIELDS.filter((f) => f !== 'created_at')
              .map((f) => `COALESCE(s.${f}, c.${f}) AS ${f}`)
              .join(', ')},
            COALESCE(s.created_at, c.created_at) AS created_at,
            ${CONSENT_CHANNELS.map((ch) => {
              // Kept as stored: no value in the file, or the same status without a time (a snapshot
              // confirming it). Otherwise the file's, at its time — or, without one, at this import.
              const keep = `s.${ch}_status IS NULL OR (s.${ch}_changed_at IS NULL AND s.${ch}_status = ${ch}.status)`;
              return `COALESCE(s.${ch}_status, ${ch}.status) AS ${ch}_status, CASE WHEN ${keep} THEN ${ch}.changed_at ELSE COALESCE(s.${ch}_changed_at, $1::timestamp) END AS ${ch}_changed_at, CASE WHEN ${keep} THEN ${ch}.source ELSE s.${ch}_source END AS ${ch}_source`;
            }).join(',\n            ')}
     FROM stg_customers s
     LEFT JOIN customers c ON c.external_id = s.external_id
     ${CONSENT_CHANNELS.map((ch) => `LEFT JOIN customer_consents ${ch} ON ${ch}.customer_id = c.customer_id AND ${ch}.channel = '${ch}'`).join('\n     ')}`,
    [now],
  );
  await tx.exec(`DROP TABLE IF EXISTS stg_customers_cur`);
  await tx.exec(
    `CREATE TEMP TABLE stg_customers_cur AS
     SELECT c.external_id, c.email, c.phone, c.first_name, c.last_name, c.birthday, c.country, c.acquisition_channel, c.created_at,
            c.locale, c.time_zone,
            ${CONSENT_CHANNELS.map((ch) => `${ch}.status AS ${ch}_status, ${ch}.changed_at AS ${ch}_changed_at, ${ch}.source AS ${ch}_source`).join(', ')}
     FROM customers c JOIN stg_customers s ON s.external_id = c.external_id
     ${CONSENT_CHANNELS.map((ch) => `LEFT JOIN customer_consents ${ch} ON ${ch}.customer_id = c.customer_id AND ${ch}.channel = '${ch}'`).join('\n     ')}`,
  );
  const valueCols = [...CUSTOMER_FIELDS];
  const counts = await classifyOnly(
    tx,
    'stg_customers_cur',
    'stg_customers_cmp',
    ['external_id'],
    [...valueCols, ...consentCols],
  );
  const applied = await mergeStaged(tx, {
    target: 'customers',
    staged: 'stg_customers_cmp',
    keys: ['external_id'],
    columns: valueCols,
    stamp: { updated_at: '$1::timestamp' },
    params: [now],
  });
  const actions = actionsTable({ staged: 'stg_customers_cmp' });
  if (counts.inserted > 0)
    await recordFrom(
      tx,
      dialect,
      {
        type: 'customer.created',
        from: `FROM ${actions} a JOIN customers c ON c.external_id = a.external_id WHERE a.action = 'insert'`,
        customerId: 'c.customer_id',
        occurredAt: 'COALESCE(c.created_at, $2::timestamp)',
        payload: { external_id: 'c.external_id' },
        orderBy: 'c.customer_id',
      },
      now,
    );
  // Consent-only changes leave the customer row 'same': no customer.updated, a consent.changed.
  if (applied.updated > 0)
    await recordFrom(
      tx,
      dialect,
      {
        type: 'customer.updated',
        from: `FROM ${actions} a JOIN customers c ON c.external_id = a.external_id WHERE a.action = 'update'`,
        customerId: 'c.customer_id',
        occurredAt: '$2::timestamp',
        payload: { external_id: 'c.external_id' },
        orderBy: 'c.customer_id',
      },
      now,
    );
  for (const ch of CONSENT_CHANNELS) {
    await tx.exec(
      `DELETE FROM customer_consents WHERE channel = '${ch}' AND customer_id IN (
         SELECT c.customer_id FROM customers c JOIN stg_customers_cmp s ON s.external_id = c.external_id WHERE s.${ch}_status IS NOT NULL)`,
    );
    await tx.exec(
      `INSERT INTO customer_consents (customer_id, channel, status, changed_at, source)
       SELECT c.customer_id, '${ch}', s.${ch}_status, s.${ch}_changed_at, s.${ch}_source
       FROM stg_customers_cmp s JOIN customers c ON c.external_id = s.external_id WHERE s.${ch}_status IS NOT NULL`,
    );
    // The ledger gets the decisions that differ from the state before (a re-import adds none).
    await appendConsentLedger(
      tx,
      `SELECT c.customer_id, '${ch}', s.${ch}_status, COALESCE(s.${ch}_source, 'import'), s.${ch}_changed_at,
              $1::timestamp, NULL, NULL, NULL
       FROM stg_customers_cmp s JOIN customers c ON c.external_id = s.external_id
       LEFT JOIN stg_customers_cur t ON t.external_id = s.external_id
       WHERE s.${ch}_status IS NOT NULL AND (s.${ch}_status IS DISTINCT FROM t.${ch}_status
         OR s.${ch}_changed_at IS DISTINCT FROM t.${ch}_changed_at OR s.${ch}_source IS DISTINCT FROM t.${ch}_source)
       ORDER BY c.customer_id`,
      [now],
    );
    // stg_customers_cur is the state before this merge (no row: a new customer).
    await recordFrom(
      tx,
      dialect,
      {
        type: 'consent.changed',
        from: `FROM stg_customers_cmp s JOIN customers c ON c.external_id = s.external_id
               LEFT JOIN stg_customers_cur t ON t.external_id = s.external_id
               WHERE s.${ch}_status IS NOT NULL AND s.${ch}_status IS DISTINCT FROM t.${ch}_status`,
        customerId: 'c.customer_id',
        occurredAt: `COALESCE(s.${ch}_changed_at, $2::timestamp)`,
        payload: {
          external_id: 'c.external_id',
          channel: `CAST('${ch}' AS TEXT)`,
          from: `t.${ch}_status`,
          to: `s.${ch}_status`,
        },
        orderBy: 'c.customer_id',
      },
      now,
    );
  }
  await dropStaging(tx, [
    'stg_customers',
    'stg_customers_cmp',
    'stg_customers_cur',
    actions,
    'stg_customers_cur_cmp',
  ]);
  return { ...counts, duplicates };
}

/** Counts insert/update/same of `staged` against a snapshot table without applying anything. */
async function classifyOnly(
  tx: Queryable,
  current: string,
  staged: string,
  keys: string[],
  columns: string[],
): Promise<MergeCounts> {
  const differs = columns.map((c) => `t.${c} IS DISTINCT FROM s.${c}`).join(' OR ');
  const on = keys.map((k) => `t.${k} = s.${k}`).join(' AND ');
  const [r] = await tx.query<{ inserted: number; updated: number; unchanged: number }>(
    `SELECT COUNT(*) FILTER (WHERE t.${keys[0]} IS NULL) AS inserted,
            COUNT(*) FILTER (WHERE t.${keys[0]} IS NOT NULL AND (${differs})) AS updated,
            COUNT(*) FILTER (WHERE t.${keys[0]} IS NOT NULL AND NOT (${differs})) AS unchanged
     FROM ${staged} s LEFT JOIN ${current} t ON ${on}`,
  );
  return { inserted: r?.inserted ?? 0, updated: r?.updated ?? 0, unchanged: r?.unchanged ?? 0 };
}

export async function mergeProducts(tx: Queryable, now: Date): Promise<MergeCounts & { duplicates: number }> {
  const duplicates = await dedupe(
    tx,
    'stg_products_raw',
    'stg_products',
    ['sku'],
    'sku, title, category, price_minor, unit_cost_minor, currency',
  );
  const counts = await mergeStaged(tx, {
    target: 'products',
    staged: 'stg_products',
    keys: ['sku'],
    columns: ['title', 'category', 'price_minor', 'unit_cost_minor', 'currency'],
    stamp: { updated_at: '$1::timestamp' },
    params: [now],
  });
  await dropStaging(tx, ['stg_products', 'stg_products_actions']);
  return { ...counts, duplicates };
}

export async function mergeSpend(tx: Queryable): Promise<MergeCounts & { duplicates: number }> {
  const keys = ['spent_on', 'channel', 'campaign'];
  const duplicates = await dedupe(
    tx,
    'stg_spend_raw',
    'stg_spend',
    keys,
    'spent_on, channel, campaign, amount_minor, currency',
  );
  const counts = await mergeStaged(tx, {
    target: 'marketing_spend',
    staged: 'stg_spend',
    keys,
    columns: ['amount_minor', 'currency'],
  });
  await dropStaging(tx, ['stg_spend', 'stg_spend_actions']);
  return { ...counts, duplicates };
}

export async function mergeEvents(
  tx: Queryable,
  now: Date,
  dialect: Dialect,
): Promise<MergeCounts & { duplicates: number; identity: IdentityOutcome }> {
  const jsonType = dialect.jsonType;
  await resolveAliasesIn(tx, 'stg_events_raw', 'customer_ext');
  await ensureCustomers(
    tx,
    now,
    `SELECT customer_ext, CAST(NULL AS TEXT) AS email, CAST(NULL AS TEXT) AS country, occurred_at AS first_at FROM stg_events_raw`,
    dialect,
  );
  const duplicates = await dedupe(
    tx,
    'stg_events_raw',
    'stg_events_pre',
    ['event_id'],
    'line_no, event_id, customer_ext, anonymous_id, type, properties, occurred_at',
  );
  // Identity stitching: the file's events carrying both ids link them (first link wins) and the
  // stored events of those anonymous ids join the customer; then the file's anonymous-only events of
  // a linked id are staged with it.
  const identity = await linkIdentities(
    tx,
    `SELECT e.anonymous_id, c.customer_id, e.event_id, e.occurred_at AS identified_at, e.line_no
     FROM stg_events_pre e JOIN customers c ON c.external_id = e.customer_ext
     WHERE e.anonymous_id IS NOT NULL`,
    [],
    now,
    'import',
  );
  await tx.exec(`DROP TABLE IF EXISTS stg_events`);
  await tx.exec(
    `CREATE TEMP TABLE stg_events AS
     SELECT e.event_id, CASE WHEN e.customer_ext IS NULL THEN l.customer_id ELSE c.customer_id END AS customer_id,
            e.anonymous_id, e.type, CAST(e.properties AS ${jsonType}) AS properties, e.occurred_at
     FROM stg_events_pre e LEFT JOIN customers c ON c.external_id = e.customer_ext
     LEFT JOIN identity_links l ON l.anonymous_id = e.anonymous_id`,
  );
  const counts = await mergeStaged(tx, {
    target: 'events',
    staged: 'stg_events',
    keys: ['event_id'],
    columns: ['customer_id', 'anonymous_id', 'type', 'properties', 'occurred_at'],
    stamp: { received_at: '$1::timestamp' },
    params: [now],
  });
  if (counts.inserted > 0)
    await recordFrom(
      tx,
      dialect,
      {
        type: 'event.tracked',
        from: `FROM stg_events_actions a WHERE a.action = 'insert'`,
        customerId: 'a.customer_id',
        occurredAt: 'a.occurred_at',
        payload: { event_id: 'a.event_id', event_type: 'a.type' },
        orderBy: 'a.occurred_at, a.event_id',
      },
      now,
    );
  await dropStaging(tx, ['stg_events', 'stg_events_pre', 'stg_events_actions']);
  return { ...counts, duplicates, identity };
}

/** The store's currency (set by the first orders import), if known. */
export async function storeCurrency(db: Queryable): Promise<string | undefined> {
  const rows = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'currency'`);
  return rows[0]?.value;
}

/** The store's time zone (settings key `time_zone`, an IANA name), if set. */
export async function storeTimeZone(db: Queryable): Promise<string | undefined> {
  const rows = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'time_zone'`);
  return rows[0]?.value;
}

/** Keeps a record of every import (the API's import history reads it). */
export async function recordImportRun(
  tx: Queryable,
  jsonType: string,
  run: {
    entity: string;
    file: string;
    preset: string;
    startedAt: Date;
    finishedAt: Date;
    counts: MergeCounts & { rejected: number };
    details: unknown;
  },
): Promise<void> {
  await tx.exec(
    `INSERT INTO import_runs (entity, file, preset, started_at, finished_at, inserted, updated, unchanged, rejected, report)
     VALUES ($1, $2, $3, $4::timestamp, $5::timestamp, $6, $7, $8, $9, CAST($10 AS ${jsonType}))`,
    [
      run.entity,
      run.file,
      run.preset,
      run.startedAt,
      run.finishedAt,
      run.counts.inserted,
      run.counts.updated,
      run.counts.unchanged,
      run.counts.rejected,
      JSON.stringify(run.details),
    ],
  );
}

/** Whether a file of this name was imported before (the demo imports its data once). */
export async function hasImported(db: Queryable, file: string): Promise<boolean> {
  const rows = await db.query(`SELECT 1 AS seen FROM import_runs WHERE file = $1 LIMIT 1`, [file]);
  return rows.length > 0;
}

/**
 * Staged orders whose `order_total` is below their lines' subtotal − discount + shipping (what the
 * lines and shipping cost after the discount, with any tax included in the prices): nothing a file
 * lists explains a lower charge. The store's total is kept — it is what the customer was charged —
 * and the import warns, naming the parts. A total above subtotal − discount + shipping + tax is left
 * alone: fees, tips, duties and gift wrap are charged outside these columns (WooCommerce's `fee_total`,
 * 4 % of the sample store's orders). Only orders with lines and a total are checked; `count` is all
 * of them, `orders` the first `limit` by line.
 */
export async function orderTotalWarnings(
  tx: Queryable,
  limit: number,
): Promise<{
  count: number;
  orders: {
    line: number;
    order: string;
    currency: string;
    total: number;
    subtotal: number;
    discount: number;
    shipping: number;
  }[];
}> {
  const where = `FROM (
       SELECT order_ext, MIN(line_no) AS line, MIN(currency) AS currency, MAX(order_total_minor) AS total,
              SUM(line_total_minor) AS subtotal, COALESCE(MAX(discount_minor), 0) AS discount,
              COALESCE(MAX(shipping_minor), 0) AS shipping
       FROM stg_order_lines GROUP BY order_ext
       HAVING MAX(order_total_minor) IS NOT NULL AND COUNT(*) FILTER (WHERE has_line) > 0
     ) o WHERE total < subtotal - discount + shipping`;
  const [n] = await tx.query<{ n: number }>(`SELECT COUNT(*) AS n ${where}`);
  const count = n?.n ?? 0;
  if (count === 0) return { count, orders: [] };
  const rows = await tx.query<{
    line: number;
    order_ext: string;
    currency: string;
    total: number;
    subtotal: number;
    discount: number;
    shipping: number;
  }>(
    `SELECT line, order_ext, currency, total, subtotal, discount, shipping ${where}
     ORDER BY line LIMIT ${Math.max(0, Math.floor(limit))}`,
  );
  return {
    count,
    orders: rows.map((r) => ({
      line: r.line,
      order: r.order_ext,
      currency: r.currency,
      total: r.total,
      subtotal: r.subtotal,
      discount: r.discount,
      shipping: r.shipping,
    })),
  };
}

/** An import job's progress as last written (jobs.ts, at most once a second). */
export interface ImportProgressRow {
  phase: 'reading' | 'merging';
  rowsRead: number;
  bytesRead: number;
  bytesTotal: number;
  updatedAt: Date;
}

/** Writes an import job's progress (one row per job, replaced). */
export async function saveImportProgress(db: Queryable, jobId: number, p: ImportProgressRow): Promise<void> {
  await db.exec(
    `INSERT INTO import_progress (job_id, phase, rows_read, bytes_read, bytes_total, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6::timestamp)
     ON CONFLICT (job_id) DO UPDATE SET phase = EXCLUDED.phase, rows_read = EXCLUDED.rows_read,
       bytes_read = EXCLUDED.bytes_read, bytes_total = EXCLUDED.bytes_total, updated_at = EXCLUDED.updated_at`,
    [jobId, p.phase, p.rowsRead, p.bytesRead, p.bytesTotal, p.updatedAt],
  );
}

/** The progress of these import jobs, by job id (jobs that have not started have none). */
export async function importProgress(
  db: Queryable,
  jobIds: readonly number[],
): Promise<Map<number, ImportProgressRow>> {
  const out = new Map<number, ImportProgressRow>();
  if (jobIds.length === 0) return out;
  const rows = await db.query<{
    job_id: number;
    phase: 'reading' | 'merging';
    rows_read: number;
    bytes_read: number;
    bytes_total: number;
    updated_at: Date;
  }>(
    `SELECT job_id, phase, rows_read, bytes_read, bytes_total, updated_at FROM import_progress
     WHERE job_id IN (${jobIds.map((_, i) => `$${i + 1}`).join(', ')})`,
    [...jobIds],
  );
  for (const r of rows)
    out.set(Number(r.job_id), {
      phase: r.phase,
      rowsRead: Number(r.rows_read),
      bytesRead: Number(r.bytes_read),
      bytesTotal: Number(r.bytes_total),
      updatedAt: r.updated_at,
    });
  return out;
}

/**
 * The newest upload jobs' ids (the job queue's `import` jobs; read here so the list needs no new
 * method on the queue), newest first.
 */
export async function recentImportJobIds(db: Queryable, limit: number): Promise<number[]> {
  const rows = await db.query<{ job_id: number }>(
    `SELECT job_id FROM jobs WHERE kind = 'import' ORDER BY job_id DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
  );
  return rows.map((r) => Number(r.job_id));
}
