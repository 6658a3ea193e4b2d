import { createHash } from 'node:crypto';

/**
 * The arm of a customer in a campaign: a stable hash of (campaign, customer) → a number uniform in
 * [0, 1) → the holdout below `holdoutShare`, then the variants by their shares in key order. The same
 * customer and campaign always land in the same arm (a relaunch, another process), and different
 * campaigns split independently.
 */
export function armOf(
  campaignId: number,
  customerId: number,
  holdoutShare: number,
  variants: readonly { key: string; share: number }[],
): string {
  const digest = createHash('sha256').update(`${campaignId}:${customerId}`).digest();
  // 52 bits: exact in a double.
  const u = (digest.readUInt32BE(0) * 2 ** 20 + (digest.readUInt32BE(4) >>> 12)) / 2 ** 52;
  if (u < holdoutShare) return 'holdout';
  let edge = holdoutShare;
  for (const v of variants) {
    edge += v.share;
    if (u < edge) return v.key;
  }
  return variants[variants.length - 1]!.key;
}
