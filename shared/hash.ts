/**
 * Hex SHA-256 of bytes with Web Crypto, available in Node and workerd alike.
 *
 * @example
 * await sha256Hex(new TextEncoder().encode('abc')); // "ba7816bf..."
 */
export async function sha256Hex(bytes: ArrayBuffer | Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
