import { useQuery } from '@tanstack/react-query';
import { api, type Me } from '../api';

/** `GET /v1/loyalty/program` (404 when none is set). */
export interface Program {
  version: number;
  createdAt: string;
  createdBy: string | null;
  config: {
    name: string;
    currency?: string;
    pointValue: { points: number; minor: number };
    redemption: { minPoints: number; maxPoints: number | null; codeDays: number };
    tiers: {
      basis: 'spend' | 'points';
      windowMonths: number;
      levels: { name: string; threshold: number }[];
    };
    [key: string]: unknown;
  };
}

/** `GET /v1/loyalty/members/{customer}`. */
export interface Member {
  customer: string;
  cardNumber: string;
  enrolledAt: string;
  tier: string | null;
  tierSince: string | null;
  downgradeAt: string | null;
  available: number;
  pending: number;
  debt: number;
  valueMinor: number;
  currency: string | null;
  expiringSoon: { points: number; expiresAt: string }[];
  tierBasisValue: number;
  nextTier: { name: string; threshold: number; missing: number } | null;
}

/** A row of `GET /v1/loyalty/members`. */
export interface MemberRow {
  customer: string;
  cardNumber: string;
  enrolledAt: string;
  tier: string | null;
  available: number;
  pending: number;
  debt: number;
}

export interface Redemption {
  id: number;
  customer: string;
  kind: 'code' | 'order';
  points: number;
  valueMinor: number;
  currency: string;
  code: string | null;
  order: string | null;
  status: 'active' | 'reversed';
  createdAt: string;
  expiresAt: string | null;
  reversedAt: string | null;
}

export interface LedgerEntry {
  id: number;
  type: string;
  points: number;
  pendingDelta: number;
  availableDelta: number;
  order: string | null;
  redemptionId: number | null;
  reason: string | null;
  occurredAt: string;
  createdBy: string | null;
}

export interface TierChange {
  changedAt: string;
  from: string | null;
  to: string | null;
  basisValue: number;
  reason: string;
}

/** The programme in force (`['loyalty-program']`); a 404 is an ApiError with status 404. */
export function useProgram() {
  return useQuery({ queryKey: ['loyalty-program'], queryFn: () => api<Program>('/v1/loyalty/program') });
}

/**
 * What the signed-in role may do here (src/kit/http/roles.ts): `write` — enrol, redeem, reverse,
 * adjust, the card link (admin, marketer, agent); `manage` — the programme (admin, marketer). The API
 * refuses the rest anyway; the page does not offer it.
 */
export function useLoyaltyRights(): { write: boolean; manage: boolean } {
  const me = useQuery({ queryKey: ['me'], queryFn: () => api<Me>('/v1/session') });
  const role = me.data?.role;
  return {
    write: role === 'admin' || role === 'marketer' || role === 'agent',
    manage: role === 'admin' || role === 'marketer',
  };
}

/** Digits of a currency's minor unit, as `Intl` knows them. */
export const digitsOf = (currency: string) =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/** The store's time zone (`GET /v1/store`, the cache the Settings page shares); UTC until known. */
export function useStoreZone(): string {
  const store = useQuery({ queryKey: ['store'], queryFn: () => api<{ timeZone: string }>('/v1/store') });
  return store.data?.timeZone ?? 'UTC';
}

/** Formatters of the loyalty pages (all by `Intl`, in the interface language; dates in `timeZone`). */
export function loyaltyFormat(lang: string, timeZone = 'UTC') {
  const signed = (digits: number) =>
    new Intl.NumberFormat(lang, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      signDisplay: 'exceptZero',
    });
  return {
    points: (n: number) => new Intl.NumberFormat(lang).format(n),
    /** A change of points, with its sign (+250, −100, 0). */
    delta: (n: number) => new Intl.NumberFormat(lang, { signDisplay: 'exceptZero' }).format(n),
    /** Minor units of `currency` as money (`digits` from the report, else from `Intl`). */
    money: (minor: number, currency: string, digits = digitsOf(currency)) =>
      new Intl.NumberFormat(lang, { style: 'currency', currency }).format(minor / 10 ** digits),
    signedMoney: (minor: number, currency: string, digits = digitsOf(currency)) =>
      new Intl.NumberFormat(lang, { style: 'currency', currency, signDisplay: 'exceptZero' }).format(
        minor / 10 ** digits,
      ),
    pct: (x: number | null) =>
      x === null
        ? '—'
        : new Intl.NumberFormat(lang, {
            style: 'percent',
            minimumFractionDigits: 1,
            maximumFractionDigits: 1,
          }).format(x),
    /** A share difference in percentage points' figure (×100, one decimal, signed). */
    pp: (x: number) => signed(1).format(x * 100),
    /** `2026-03` → "Mar 2026". */
    month: (label: string) =>
      new Date(`${label}-01T00:00:00Z`).toLocaleDateString(lang, {
        timeZone: 'UTC',
        month: 'short',
        year: 'numeric',
      }),
    day: (iso: string) => new Date(iso).toLocaleDateString(lang, { dateStyle: 'medium', timeZone }),
    when: (iso: string) =>
      new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone }),
  };
}

/**
 * A fresh idempotency key (`web-` + 128 random bits). `crypto.getRandomValues` works outside secure
 * contexts too (a dashboard served over plain HTTP on a LAN address has no `randomUUID`).
 */
export function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
