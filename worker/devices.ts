import { BadRequestError, ConflictError, NotFoundError } from './errors.ts';
import { DEVICE_NAME_PATTERN, issueToken } from './tokens.ts';

export interface Device {
  name: string;
  admin: boolean;
}

/**
 * The part of D1 used here, so the Node scripts can pass wrangler's platform proxy of the
 * same local database (`D1Database` satisfies it).
 */
export interface DeviceDatabase {
  prepare(sql: string): {
    bind(...values: unknown[]): {
      run(): Promise<{ meta: { changes?: number } }>;
      first<T>(): Promise<T | null>;
    };
  };
}

interface DeviceRow {
  name: string;
  token_hash: string;
  admin: number;
}

function checkName(name: string): void {
  if (!DEVICE_NAME_PATTERN.test(name)) {
    throw new BadRequestError('invalid_device_name', `device name "${name}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

/**
 * Creates a device and returns its token, which exists nowhere else afterwards: only its
 * hash is stored. A name that already has an active token is a 409.
 *
 * @example
 * const { token } = await createDevice(env.DB, 'lab-1', false);
 */
export async function createDevice(db: DeviceDatabase, name: string, admin: boolean): Promise<{ name: string; admin: boolean; token: string }> {
  checkName(name);
  const { tokenId, token, tokenHash } = await issueToken();
  try {
    await db
      .prepare('INSERT INTO devices (token_id, name, token_hash, admin, created_at) VALUES (?, ?, ?, ?, ?)')
      .bind(tokenId, name, tokenHash, admin ? 1 : 0, new Date().toISOString())
      .run();
  } catch (error) {
    if (/UNIQUE constraint failed/i.test(String((error as Error).message))) {
      throw new ConflictError('device_exists', `device "${name}" already has an active token; revoke it first`);
    }
    throw error;
  }
  return { name, admin, token };
}

/** Revokes the device's active token; 404 when it has none. */
export async function revokeDevice(db: DeviceDatabase, name: string): Promise<void> {
  checkName(name);
  const result = await db
    .prepare('UPDATE devices SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL')
    .bind(new Date().toISOString(), name)
    .run();
  if (!result.meta.changes) throw new NotFoundError('device_not_found', `device "${name}" has no active token`);
}

/** The active token row with this id, if any. */
export async function findActiveToken(db: DeviceDatabase, tokenId: string): Promise<{ device: Device; tokenHash: string } | null> {
  const row = await db
    .prepare('SELECT name, token_hash, admin FROM devices WHERE token_id = ? AND revoked_at IS NULL')
    .bind(tokenId)
    .first<DeviceRow>();
  return row ? { device: { name: row.name, admin: row.admin === 1 }, tokenHash: row.token_hash } : null;
}
