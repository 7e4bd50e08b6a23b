import type { Random } from '../random.ts';

export interface AuthInputs {
  device: string;
  revoked: string;
  /** The token a device had before an admin rotated it (revoked, then issued anew). */
  rotated: string;
  /** Revoked with `npm run token -- --revoke` while the Worker ran, after the isolate had verified it. */
  cliRevoked: string;
  /** Well formed, but issued by another environment's database. */
  foreign: string;
  tiny: Uint8Array<ArrayBuffer>;
}

const json = (body: unknown): RequestInit => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Every route behind a token; `admin` ones must refuse a device token with 403. */
export function authRoutes(inputs: AuthInputs): { method: string; path: string; admin: boolean; init: RequestInit }[] {
  return [
    { method: 'GET', path: '/v1/info', admin: false, init: {} },
    { method: 'GET', path: '/v1/models', admin: false, init: {} },
    { method: 'POST', path: '/v1/classify', admin: false, init: { headers: { 'content-type': 'image/png' }, body: inputs.tiny } },
    { method: 'POST', path: '/v1/feedback', admin: false, init: json({ id: crypto.randomUUID(), label: 'NEUTROPHIL' }) },
    { method: 'GET', path: '/v1/stats', admin: true, init: {} },
    { method: 'GET', path: '/v1/routing', admin: true, init: {} },
    { method: 'PUT', path: '/v1/routing', admin: true, init: json({ split: { 's-a': 100 } }) },
    { method: 'POST', path: '/v1/routing/rollback', admin: true, init: {} },
    { method: 'POST', path: '/v1/devices', admin: true, init: json({ name: 'intruder', admin: true, pins: ['*'] }) },
    { method: 'GET', path: '/v1/devices', admin: true, init: {} },
    { method: 'PATCH', path: '/v1/devices/intruder', admin: true, init: json({ pins: ['*'] }) },
    { method: 'DELETE', path: '/v1/devices/someone', admin: true, init: {} },
    { method: 'GET', path: '/v1/models/s-a/report', admin: true, init: {} },
  ];
}

/** Authorization headers that must all be refused (null: no header at all). */
export function badCredentials(r: Random, inputs: AuthInputs): (string | null)[] {
  const { device, revoked, rotated, cliRevoked, foreign } = inputs;
  const secretFlipped = device.slice(0, -1) + (device.endsWith('A') ? 'B' : 'A');
  return [
    null, '', 'Bearer', 'Bearer ', 'Basic ZGV2aWNlOnNlY3JldA==', `Token ${device}`, device, `Bearer ${device} ${device}`,
    `Bearer ${device},Bearer ${device}`, `Bearer ${secretFlipped}`, `Bearer ${device.toUpperCase()}`, `Bearer ${revoked}`,
    `Bearer ${rotated}`, `Bearer ${cliRevoked}`, `Bearer ${foreign}`, `Bearer ${device.slice(0, 20)}`, `Bearer cs_${'0'.repeat(16)}_${'A'.repeat(43)}`,
    `Bearer ${r.text(64, 'abcdefABCDEF0123456789_-')}`, `Bearer ${'x'.repeat(8000)}`,
  ];
}

/** `npm run token` pins that --local and --remote must both refuse. */
export const BAD_PINS = ['v1 v2', '../s-a', '*x', "s-a'; DROP TABLE devices; --", 'x'.repeat(65)];
