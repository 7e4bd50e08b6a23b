import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { tokenCacheMs } from '../../../worker/devices/token-cache.ts';
import { jsonInit, newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

let admin: string;
beforeAll(async () => {
  await publishFixture();
  await publishFixture('pin-me');
  admin = await newToken(true);
});

const classifyWith = (token: string, vars: Partial<Env> = {}) =>
  settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: sampleBytes(0) }, vars);
const lastDevice = async () => (await env.DB.prepare('SELECT name FROM devices ORDER BY rowid DESC LIMIT 1').first<{ name: string }>())!.name;
// A revocation written to D1 behind the isolate (`npm run token -- --revoke` with no Worker to tell, or another isolate): nothing tells this one.
const revokeBehindTheIsolate = (name: string) => env.DB.prepare("UPDATE devices SET revoked_at = '2026-01-01T00:00:00Z' WHERE name = ?").bind(name).run();

describe('per-isolate token cache', () => {
  it.each([
    [undefined, 30_000],
    ['0', 0],
    ['5', 5_000],
    ['-1', 30_000],
    ['soon', 30_000],
  ])('TOKEN_CACHE_SECONDS=%s trusts a token row for %i ms', (value, ms) => {
    expect(tokenCacheMs({ TOKEN_CACHE_SECONDS: value as string })).toBe(ms);
  });

  it('a revocation through the API applies to the next request of the isolate that made it', async () => {
    const token = await newToken();
    const name = await lastDevice();
    expect((await classifyWith(token)).status).toBe(200);
    expect((await settled(`/v1/devices/${name}`, jsonInit(admin, 'DELETE'))).status).toBe(204);
    expect((await classifyWith(token)).status).toBe(401);
  });

  it('new pins through the API apply at once', async () => {
    const token = await newToken();
    const name = await lastDevice();
    const pinned = { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', 'x-model-version': 'pin-me' }, body: sampleBytes(0) };
    expect((await settled('/v1/classify', pinned)).status).toBe(403);
    expect((await settled(`/v1/devices/${name}`, jsonInit(admin, 'PATCH', { pins: ['pin-me'] }))).status).toBe(200);
    expect((await settled('/v1/classify', { ...pinned, body: sampleBytes(0) })).status).toBe(200);
  });

  it('a revocation made outside the isolate applies within TOKEN_CACHE_SECONDS', async () => {
    const vars = { TOKEN_CACHE_SECONDS: '1' };
    const token = await newToken();
    expect((await classifyWith(token, vars)).status).toBe(200);
    await revokeBehindTheIsolate(await lastDevice());
    expect((await classifyWith(token, vars)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await classifyWith(token, vars)).status).toBe(401);
  });

  it('a cached token id presented with another secret is refused, and the real token keeps working', async () => {
    const token = await newToken();
    expect((await classifyWith(token)).status).toBe(200);
    const forged = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect((await classifyWith(forged)).status).toBe(401);
    expect((await classifyWith(token)).status).toBe(200);
  });

  it('with TOKEN_CACHE_SECONDS=0 every request reads D1', async () => {
    const vars = { TOKEN_CACHE_SECONDS: '0' };
    const token = await newToken();
    expect((await classifyWith(token, vars)).status).toBe(200);
    await revokeBehindTheIsolate(await lastDevice());
    expect((await classifyWith(token, vars)).status).toBe(401);
  });
});
