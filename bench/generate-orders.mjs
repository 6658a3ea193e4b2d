#!/usr/bin/env node
// Deterministic generator of a store's orders in Retain's `generic` format (one row per order line).
// Usage: node bench/generate-orders.mjs <out.csv[.gz]> [--orders 2000000] [--customers 200000] [--seed 42]
// Customers arrive uniformly over the first 80 % of two years (2023–2024); each buys a skewed number of orders
// (mean orders/customers), days apart (up to 60, squeezed for heavy buyers so every order stays inside the two
// years); orders hold 1–3 lines from a 5,000-SKU catalogue with Zipf-like popularity. Same seed → same bytes.
// Version 2: version 1 let heavy buyers' orders run on for decades (to 2089), so a report's month grid was
// ~800 months long; its files are named without the version.
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { once } from 'node:events';
import { parseArgs } from 'node:util';

/** mulberry32: small, fast, deterministic PRNG. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bumped whenever the same seed gives different bytes; cached files are named with it. */
export const GENERATOR_VERSION = 2;

export async function generateOrders(out, { orders = 2_000_000, customers = 200_000, seed = 42 } = {}) {
  const rand = prng(seed);
  const start = Date.UTC(2023, 0, 1);
  const span = 2 * 365 * 86_400_000;
  const end = start + span;
  const skus = 5000;
  const price = Array.from({ length: skus }, () => 1 + Math.floor(rand() * 9900)); // cents
  const channels = ['organic', 'ads', 'email', 'social', 'referral'];
  // Distribute orders over customers: every customer ≥ 1, the rest by a skewed draw.
  const counts = new Uint32Array(customers).fill(1);
  for (let i = customers; i < orders; i++) counts[Math.floor(customers * Math.pow(rand(), 1.6))]++;
  const file = createWriteStream(out);
  const sink = out.endsWith('.gz') ? createGzip({ level: 1 }) : null;
  if (sink) sink.pipe(file);
  const target = sink ?? file;
  let buf = 'order_id,customer_id,ordered_at,currency,sku,title,quantity,unit_price,channel\n';
  let orderNo = 0;
  let lines = 0;
  for (let c = 0; c < customers; c++) {
    const first = start + Math.floor(rand() * span * 0.8);
    const channel = channels[Math.floor(rand() * rand() * channels.length)];
    let t = first;
    const gapMax = Math.min(60 * 86_400_000, (2 * (end - first)) / counts[c]);
    for (let k = 0; k < counts[c]; k++) {
      orderNo++;
      const at = new Date(t).toISOString().slice(0, 19).replace('T', ' ');
      const n = 1 + Math.floor(rand() * rand() * 3);
      for (let l = 0; l < n; l++) {
        const sku = Math.floor(skus * Math.pow(rand(), 2));
        const cents = price[sku];
        buf += `O${orderNo},C${c + 1},${at},USD,SKU${sku},Product ${sku},${1 + Math.floor(rand() * rand() * 4)},${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')},${channel}\n`;
        lines++;
      }
      t = Math.min(end - 1000, t + Math.floor(rand() * gapMax));
      if (buf.length > 1 << 20) {
        if (!target.write(buf)) await once(target, 'drain');
        buf = '';
      }
    }
  }
  target.write(buf);
  target.end();
  await once(file, 'finish');
  return { orders: orderNo, customers, lines };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const usage =
    'usage: node bench/generate-orders.mjs <out.csv[.gz]> [--orders N] [--customers M] [--seed S]';
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        orders: { type: 'string' },
        customers: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`${err.message}\n${usage}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const out = positionals[0];
  if (!out || positionals.length > 1 || out.startsWith('-')) {
    console.error(usage);
    process.exit(2);
  }
  const whole = (name, dflt) => {
    const v = values[name];
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1) {
      console.error(`--${name}: expected a positive whole number, got '${v}'\n${usage}`);
      process.exit(2);
    }
    return Number(v);
  };
  const r = await generateOrders(out, {
    orders: whole('orders', 2_000_000),
    customers: whole('customers', 200_000),
    seed: whole('seed', 42),
  });
  console.error(`wrote ${out}: ${r.orders} orders, ${r.customers} customers, ${r.lines} lines`);
}
