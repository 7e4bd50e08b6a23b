/** Devices are spread over this many buckets; a weight of 1% is 100 of them. */
export const BUCKETS = 10_000;

/**
 * A device's bucket: the first 4 bytes of SHA-256(salt ":" device) modulo BUCKETS. The same
 * device and salt always land in the same bucket, so a device keeps its version while the
 * weights stay as they are.
 *
 * @example
 * await deviceBucket('9f2c01d4', 'lab-1'); // 4711
 */
export async function deviceBucket(salt: string, device: string): Promise<number> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${salt}:${device}`));
  return new DataView(digest).getUint32(0) % BUCKETS;
}

/** A bucket drawn at random, for configurations that are not sticky. */
export function randomBucket(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] % BUCKETS;
}

/**
 * The version of a split that serves a bucket, leaving out `excluded` (unhealthy) versions: the
 * remaining versions, in name order, share the buckets in proportion to their weights. Versions
 * keep their order when weights change, so moving 10 points from v1 to v2 moves only the
 * devices in those 10 points. Null when no version with a weight is left.
 *
 * @example
 * pickVersion({ v1: 90, v2: 10 }, 9500); // 'v2'
 * pickVersion({ v1: 90, v2: 10 }, 9500, new Set(['v2'])); // 'v1'
 */
export function pickVersion(split: Record<string, number>, bucket: number, excluded: ReadonlySet<string> = new Set()): string | null {
  const candidates = Object.entries(split)
    .filter(([version, weight]) => weight > 0 && !excluded.has(version))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = candidates.reduce((n, [, weight]) => n + weight, 0);
  if (!total) return null;
  const point = (bucket * total) / BUCKETS;
  let edge = 0;
  for (const [version, weight] of candidates) {
    edge += weight;
    if (point < edge) return version;
  }
  return candidates[candidates.length - 1][0];
}
