import { randomInt } from 'node:crypto';

/** Capital letters and digits without the ones read alike (I/1, O/0). */
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/**
 * A new random discount code: `prefix` and ten characters of an unambiguous alphabet in two groups
 * (`SPRING-7KQ4M-X2PHT`); 32^10 ≈ 10^15 codes, so a clash is rare and the caller's unique key catches it.
 */
export function newDiscountCode(prefix: string): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return `${prefix}${s.slice(0, 5)}-${s.slice(5)}`;
}
