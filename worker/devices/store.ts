import { isUniqueViolation } from '../db.ts';
import { HttpError, quoted } from '../errors.ts';
import { DEVICE_NAME_PATTERN, issueToken } from './tokens.ts';

export interface Device {
  name: string;
  admin: boolean;
  /** Versions this device may pin with X-Model-Version (`*`: any). */
  pins: string[];
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
  pins: string;
}

const PIN_PATTERN = /^(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

/**
 * Whether two device names are the same device: names are unique whatever their case (a D1
 * index, migration 0005), so "lab-1" and "LAB-1" are one device.
 */
export const sameDevice = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Refuses (400) a pin that is neither a version name nor "*". */
export function checkPins(pins: string[]): void {
  const bad = pins.find((pin) => !PIN_PATTERN.test(pin));
  if (bad !== undefined) throw new HttpError('invalid_pins', `pin ${quoted(bad)} is neither a version name nor "*"`);
}

function checkName(name: string): void {
  if (!DEVICE_NAME_PATTERN.test(name)) {
    throw new HttpError('invalid_device_name', `device name ${quoted(name)} must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

/**
 * Creates a device and returns its token, which exists nowhere else afterwards: only its
 * hash is stored. A name that already has an active token, in any case, is a 409.
 *
 * @example
 * const { token } = await createDevice(env.DB, 'lab-1', false);
 */
export async function createDevice(
  db: DeviceDatabase,
  name: string,
  admin: boolean,
  pins: string[] = [],
): Promise<{ name: string; admin: boolean; pins: string[]; token: string }> {
  checkName(name);
  checkPins(pins);
  const { tokenId, token, tokenHash } = await issueToken();
  try {
    await db
      .prepare('INSERT INTO devices (token_id, name, token_hash, admin, pins, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .bind(tokenId, name, tokenHash, admin ? 1 : 0, JSON.stringify(pins), new Date().toISOString())
      .run();
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new HttpError('device_exists', `device ${quoted(name)} already has an active token (names are the same whatever their case); revoke it first`);
    }
    throw error;
  }
  return { name, admin, pins, token };
}

/** Replaces the versions a device may pin (its name in any case); 404 when it has no active token. */
export async function setDevicePins(db: DeviceDatabase, name: string, pins: string[]): Promise<{ name: string; pins: string[] }> {
  checkName(name);
  checkPins(pins);
  const result = await db.prepare('UPDATE devices SET pins = ? WHERE name = ? COLLATE NOCASE AND revoked_at IS NULL').bind(JSON.stringify(pins), name).run();
  if (!result.meta.changes) throw new HttpError('device_not_found', `device ${quoted(name)} has no active token`);
  return { name, pins };
}

/** Revokes the device's active token (its name in any case); 404 when it has none. */
export async function revokeDevice(db: DeviceDatabase, name: string): Promise<void> {
  checkName(name);
  const result = await db
    .prepare('UPDATE devices SET revoked_at = ? WHERE name = ? COLLATE NOCASE AND revoked_at IS NULL')
    .bind(new Date().toISOString(), name)
    .run();
  if (!result.meta.changes) throw new HttpError('device_not_found', `device ${quoted(name)} has no active token`);
}

/** The active token row with this id, if any. */
export async function findActiveToken(db: DeviceDatabase, tokenId: string): Promise<{ device: Device; tokenHash: string } | null> {
  const row = await db
    .prepare('SELECT name, token_hash, admin, pins FROM devices WHERE token_id = ? AND revoked_at IS NULL')
    .bind(tokenId)
    .first<DeviceRow>();
  return row ? { device: { name: row.name, admin: row.admin === 1, pins: JSON.parse(row.pins) as string[] }, tokenHash: row.token_hash } : null;
}
