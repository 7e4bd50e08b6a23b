import { findActiveToken, sameDevice, type Device, type DeviceDatabase } from './store.ts';
import { constantTimeEqual, hashToken, tokenIdOf } from './tokens.ts';

/** A token this isolate verified against D1, and the device it belongs to. */
interface Entry {
  token: string;
  device: Device;
  readAt: number;
}

// Compared against when no row matches, so unknown and wrong tokens take the same path.
const NO_MATCH = '0'.repeat(64);

const DEFAULT_SECONDS = 30;
// Bounded so a flood of distinct (valid) tokens cannot grow the isolate without limit.
const MAX_ENTRIES = 10_000;
const entries = new Map<string, Entry>();

/** How long an isolate trusts its copy of a token row (TOKEN_CACHE_SECONDS; "0" reads D1 every time). */
export function tokenCacheMs(env: Pick<Env, 'TOKEN_CACHE_SECONDS'>): number {
  const seconds = Number(env.TOKEN_CACHE_SECONDS);
  return (Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_SECONDS) * 1000;
}

/**
 * The device a bearer token belongs to, or `null` when the token is malformed, unknown or
 * revoked. A token verified (its SHA-256 against the stored hash, in D1) less than `ttlMs` ago
 * by this isolate is accepted on a constant-time comparison with the verified string: a device
 * classifies many times a minute with one token, and the D1 round trip and the hash were most
 * of the cost of a request. Failures are never cached, so they cannot fill the cache or evict
 * a valid token.
 *
 * @example
 * const device = await verifyToken(c.env.DB, token, tokenCacheMs(c.env));
 */
export async function verifyToken(db: DeviceDatabase, token: string, ttlMs: number): Promise<Device | null> {
  const tokenId = tokenIdOf(token);
  const hit = tokenId ? entries.get(tokenId) : undefined;
  if (hit && Date.now() - hit.readAt < ttlMs && constantTimeEqual(hit.token, token)) return hit.device;
  const row = tokenId ? await findActiveToken(db, tokenId) : null;
  const presented = await hashToken(token);
  if (!constantTimeEqual(row?.tokenHash ?? NO_MATCH, presented) || !row) {
    if (tokenId && !row) entries.delete(tokenId);
    return null;
  }
  if (ttlMs > 0) {
    entries.delete(tokenId!);
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    entries.set(tokenId!, { token, device: row.device, readAt: Date.now() });
  }
  return row.device;
}

/**
 * Drops every cached token of a device, so a revocation or a change of pins made through this
 * isolate applies to its next request; other isolates see it within TOKEN_CACHE_SECONDS.
 */
export function forgetDevice(name: string): void {
  for (const [id, entry] of entries) if (sameDevice(entry.device.name, name)) entries.delete(id);
}
