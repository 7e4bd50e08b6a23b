import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevice, revokeDevice as revokeInD1 } from '../../../worker/devices/store.ts';
import { revokeDevice, tokenRequest, type DeviceStore, type WorkerFetch } from '../../../scripts/lib/token-core.ts';
import { newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

// What `npm run token -- --local` writes through: wrangler's proxy of this very D1 database.
const store: DeviceStore = {
  create: async (name, admin, pins) => (await createDevice(env.DB, name, admin, pins)).token,
  revoke: (name) => revokeInD1(env.DB, name),
};
// The running Worker, as `npm start` or `npm run dev` serves it (the default TOKEN_CACHE_SECONDS, 30 s).
const worker: WorkerFetch = (path, init) => settled(path, init);
const classifyWith = (token: string) =>
  settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: sampleBytes(0) });
const activeHelpers = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM devices WHERE name LIKE 'cli-revoke-%' AND revoked_at IS NULL").first<{ n: number }>())!.n;

beforeAll(async () => {
  await publishFixture();
});

describe('npm run token -- --revoke', () => {
  it('with a Worker running, goes through its API: the token is refused on the very next request', async () => {
    const { token } = await createDevice(env.DB, 'cli-target', false);
    expect((await classifyWith(token)).status).toBe(200);
    expect(await revokeDevice(store, 'cli-target', worker)).toBe('worker');
    expect((await classifyWith(token)).status).toBe(401);
    // The admin token it made for the purpose is revoked the same way.
    expect(await activeHelpers()).toBe(0);
  });

  it('writing D1 alone (no Worker to tell) leaves the isolate trusting the token it verified', async () => {
    const { token } = await createDevice(env.DB, 'cli-behind', false);
    expect((await classifyWith(token)).status).toBe(200);
    expect(await revokeDevice(store, 'cli-behind', null)).toBe('database');
    expect((await classifyWith(token)).status).toBe(200);
  });

  it('a Worker that cannot be reached: D1 is written, nothing is left behind', async () => {
    await createDevice(env.DB, 'cli-unreached', false);
    const down: WorkerFetch = () => Promise.reject(new TypeError('fetch failed: connection refused'));
    expect(await revokeDevice(store, 'cli-unreached', down)).toBe('database');
    expect(await env.DB.prepare("SELECT 1 FROM devices WHERE name = 'cli-unreached' AND revoked_at IS NULL").first()).toBeNull();
    expect(await activeHelpers()).toBe(0);
  });

  it('a device without an active token is an error that says so, through the Worker or not', async () => {
    await expect(revokeDevice(store, 'cli-nobody', worker)).rejects.toThrow('device "cli-nobody" has no active token');
    await expect(revokeDevice(store, 'cli-nobody', null)).rejects.toThrow('device "cli-nobody" has no active token');
    expect(await activeHelpers()).toBe(0);
  });

  it('an admin token revoked this way stops working at once too', async () => {
    const admin = await newToken(true);
    const name = (await env.DB.prepare('SELECT name FROM devices WHERE admin = 1 ORDER BY rowid DESC LIMIT 1').first<{ name: string }>())!.name;
    expect((await settled('/v1/stats', { headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);
    await revokeDevice(store, name, worker);
    expect((await settled('/v1/stats', { headers: { authorization: `Bearer ${admin}` } })).status).toBe(401);
  });
});

describe('npm run token flags, checked alike for --local and --remote', () => {
  it.each([{ local: true }, { remote: true }])('%o: pins must be version names or "*"', (where) => {
    for (const pin of ['v2 v3', '../v1', '*x', 'ünï']) {
      expect(() => tokenRequest({ device: 'lab-1', pin, ...where })).toThrow(`pin "${pin}" is neither a version name nor "*"`);
    }
    expect(tokenRequest({ device: 'lab-1', pin: 'v2, *', ...where })).toEqual({ action: 'create', name: 'lab-1', admin: false, pins: ['v2', '*'], where: 'local' in where ? 'local' : 'remote' });
  });

  it.each([
    [{ device: 'a', revoke: 'b', local: true }, 'give exactly one of --device NAME or --revoke NAME'],
    [{ device: 'a', local: true, remote: true }, 'say which database: exactly one of --local or --remote'],
    [{ device: 'bad name', remote: true }, 'device name "bad name" must be 1-64 letters, digits, ".", "_" or "-"'],
    [{ revoke: 'a', pin: 'v1', remote: true }, '--pin and --admin go with --device, not --revoke'],
  ])('refuses %o', (options, message) => {
    expect(() => tokenRequest(options)).toThrow(message);
  });
});
