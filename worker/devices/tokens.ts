import { sha256Hex } from '../../shared/index.ts';

/** Device names: what a lab writes on the device, safe in URLs and logs. */
export const DEVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `cs_<id>_<secret>`: the id finds the stored row, the whole token is hashed and compared. */
const TOKEN_PATTERN = /^cs_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

interface IssuedToken {
  tokenId: string;
  token: string;
  tokenHash: string;
}

function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * A fresh random token and the hash that is stored in its place (Web Crypto only, so the
 * Worker and the Node scripts share it).
 *
 * @example
 * const { token, tokenId, tokenHash } = await issueToken(); // token: "cs_1f0c..._Xk3..."
 */
export async function issueToken(): Promise<IssuedToken> {
  const id = crypto.getRandomValues(new Uint8Array(8));
  const tokenId = Array.from(id, (b) => b.toString(16).padStart(2, '0')).join('');
  const token = `cs_${tokenId}_${base64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  return { tokenId, token, tokenHash: await hashToken(token) };
}

export function hashToken(token: string): Promise<string> {
  return sha256Hex(new TextEncoder().encode(token) as Uint8Array<ArrayBuffer>);
}

/** The token's id part, or `null` when it is not shaped like one of ours. */
export function tokenIdOf(token: string): string | null {
  return TOKEN_PATTERN.exec(token)?.[1] ?? null;
}

/**
 * Compares two strings in time that depends only on their lengths (hex hashes here, which
 * always have the same length), so response timing does not reveal how much matched.
 *
 * @example
 * constantTimeEqual(storedHash, await hashToken(presented));
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  return diff === 0;
}
