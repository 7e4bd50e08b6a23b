import { checkPins } from '../../worker/devices/store.ts';
import { DEVICE_NAME_PATTERN } from '../../worker/devices/tokens.ts';

// No Node here: the stress suite runs this in workerd against the Worker it tests.

/** The flags of `npm run token`. */
export interface TokenOptions {
  device?: string;
  revoke?: string;
  admin?: boolean;
  pin?: string;
  local?: boolean;
  remote?: boolean;
}

/** What `npm run token` is asked to do, checked: the same name and pin rules for --local and --remote. */
export interface TokenRequest {
  action: 'create' | 'revoke';
  name: string;
  admin: boolean;
  pins: string[];
  where: 'local' | 'remote';
}

/**
 * Checks the flags before anything is read or written: one device, one database, a valid name,
 * and pins that are version names or "*" (as the API and `--local` require; `--remote` writes
 * its SQL itself, so nothing later would check them).
 *
 * @example
 * tokenRequest({ device: 'lab-1', pin: 'v2', remote: true }); // { action: 'create', name: 'lab-1', pins: ['v2'], ... }
 */
export function tokenRequest(options: TokenOptions): TokenRequest {
  if (Boolean(options.device) === Boolean(options.revoke)) throw new Error('give exactly one of --device NAME or --revoke NAME');
  if (Boolean(options.local) === Boolean(options.remote)) throw new Error('say which database: exactly one of --local or --remote');
  const name = (options.device ?? options.revoke)!;
  if (!DEVICE_NAME_PATTERN.test(name)) throw new Error(`device name "${name}" must be 1-64 letters, digits, ".", "_" or "-"`);
  if (options.revoke && (options.pin !== undefined || options.admin)) throw new Error('--pin and --admin go with --device, not --revoke');
  const pins = (options.pin ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  checkPins(pins);
  return { action: options.device ? 'create' : 'revoke', name, admin: Boolean(options.admin), pins, where: options.local ? 'local' : 'remote' };
}

/** The devices table, local (wrangler's proxy of D1) or remote (`wrangler d1 execute`). */
export interface DeviceStore {
  /** A new device and its token. */
  create(name: string, admin: boolean, pins: string[]): Promise<string>;
  /** Revokes the device's active token; throws when it has none. */
  revoke(name: string): Promise<void>;
}

/** A request to a running Worker that serves the same database. */
export type WorkerFetch = (path: string, init: RequestInit) => Promise<Response>;

/** DELETE /v1/devices/{name} with `token`; null when the Worker cannot be reached at all. */
async function deleteThrough(worker: WorkerFetch, name: string, token: string): Promise<Response | null> {
  try {
    return await worker(`/v1/devices/${encodeURIComponent(name)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  } catch {
    return null;
  }
}

/**
 * Revokes a device's token. An isolate trusts a token it verified for TOKEN_CACHE_SECONDS, so a
 * write to D1 alone leaves the token working there for that long; the API's DELETE also drops it
 * from the isolate that handles it. So with a running Worker, the revocation goes through its
 * API, with an admin token made for the purpose (this command may make admin tokens anyway) and
 * revoked the same way right after; when no Worker answers, there is no isolate to tell and D1
 * alone is written.
 *
 * @example
 * await revokeDevice(store, 'lab-1', (path, init) => fetch(`${url}${path}`, init)); // 'worker'
 */
export async function revokeDevice(store: DeviceStore, name: string, worker: WorkerFetch | null): Promise<'worker' | 'database'> {
  if (!worker) {
    await store.revoke(name);
    return 'database';
  }
  const helper = `cli-revoke-${crypto.randomUUID().slice(0, 8)}`;
  const token = await store.create(helper, true, []);
  try {
    const res = await deleteThrough(worker, name, token);
    if (!res) {
      await store.revoke(name);
      return 'database';
    }
    if (res.status === 204) return 'worker';
    const error = ((await res.json().catch(() => null)) as { error?: { message?: string } } | null)?.error;
    throw new Error(error?.message ?? `the Worker answered ${res.status} to the revocation`);
  } finally {
    const done = await deleteThrough(worker, helper, token);
    if (done?.status !== 204) await store.revoke(helper);
  }
}
