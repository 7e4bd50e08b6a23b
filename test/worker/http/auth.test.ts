import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { constantTimeEqual, hashToken } from '../../../worker/devices/tokens.ts';
import { call, classify, newToken, publishFixture, sampleBytes } from '../helpers.ts';

let device: string;
let admin: string;

beforeAll(async () => {
  await publishFixture();
  device = await newToken(false);
  admin = await newToken(true);
});

const json = (token: string | null, method: string, body?: unknown) => ({
  method,
  headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
});

describe('every /v1 route needs a valid bearer token', () => {
  const routes = [
    ['GET', '/v1/info'],
    ['GET', '/v1/models'],
    ['GET', '/v1/models/anything'],
    ['POST', '/v1/classify'],
    ['POST', '/v1/classify/batch'],
    ['POST', '/v1/devices'],
    ['DELETE', '/v1/devices/lab-1'],
  ] as const;
  const badHeaders: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['a non-bearer scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['a bearer token of the wrong shape', { authorization: 'Bearer hello' }],
    ['a well-formed but unknown token', { authorization: `Bearer cs_0123456789abcdef_${'A'.repeat(43)}` }],
  ];
  for (const [method, path] of routes) {
    it.each(badHeaders)(`${method} ${path} with %s: 401`, async (_, headers) => {
      const res = await call(path, { method, headers });
      expect(res.status).toBe(401);
      expect((await res.json<any>()).error.code).toBe('unauthorized');
    });
  }

  it("a token's id with another token's secret is refused", async () => {
    const other = await newToken();
    const forged = `${device.slice(0, 20)}${other.slice(20)}`;
    expect((await classify(sampleBytes(0), forged)).status).toBe(401);
  });

  it('a device token classifies', async () => {
    expect((await classify(sampleBytes(0), device)).status).toBe(200);
  });
});

describe('admin routes', () => {
  it('refuse a device token with 403 and create nothing', async () => {
    const res = await call('/v1/devices', json(device, 'POST', { name: 'lab-9' }));
    expect(res.status).toBe(403);
    expect((await res.json<any>()).error.code).toBe('forbidden');
    expect((await call('/v1/devices/lab-9', json(device, 'DELETE'))).status).toBe(403);
    const rows = await env.DB.prepare('SELECT count(*) AS n FROM devices WHERE name = ?').bind('lab-9').first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it('provision a device whose token works, stored only as a hash, then revoke it', async () => {
    const created = await call('/v1/devices', json(admin, 'POST', { name: 'lab-7' }));
    expect(created.status).toBe(201);
    const body = await created.json<any>();
    expect(body).toEqual({ name: 'lab-7', admin: false, pins: [], token: expect.stringMatching(/^cs_[0-9a-f]{16}_/) });
    const row = await env.DB.prepare('SELECT * FROM devices WHERE name = ?').bind('lab-7').first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(body.token.slice(20));
    expect(row?.token_hash).toBe(await hashToken(body.token));
    expect((await classify(sampleBytes(0), body.token)).status).toBe(200);

    expect((await call('/v1/devices', json(admin, 'POST', { name: 'lab-7' }))).status).toBe(409);
    expect((await call('/v1/devices/lab-7', json(admin, 'DELETE'))).status).toBe(204);
    expect((await classify(sampleBytes(0), body.token)).status).toBe(401);
    expect((await call('/v1/devices/lab-7', json(admin, 'DELETE'))).status).toBe(404);
    // The name is free again after revocation.
    expect((await call('/v1/devices', json(admin, 'POST', { name: 'lab-7' }))).status).toBe(201);
  });

  it.each([
    ['a bad name', { name: '../x' }, 400],
    ['no name', { nom: 'x' }, 400],
    ['a name that is not a string', { name: 7 }, 400],
  ])('reject %s with a JSON error', async (_, body, status) => {
    const res = await call('/v1/devices', json(admin, 'POST', body));
    expect(res.status).toBe(status);
    expect((await res.json<any>()).error.message).toEqual(expect.any(String));
  });

  // It once took the error path 23 s, holding the isolate and every request in it (the fuzz found it).
  it('reject a 100 000-character name with a short message that still says what a name must be', async () => {
    const res = await call('/v1/devices', json(admin, 'POST', { name: 'x'.repeat(100_000) }));
    expect(res.status).toBe(400);
    const { error } = await res.json<any>();
    expect(error.code).toBe('invalid_device_name');
    expect(error.message).toBe(`device name "${'x'.repeat(80)}…" (100000 characters) must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  });

  it('reject malformed JSON and non-JSON bodies', async () => {
    const malformed = await call('/v1/devices', { ...json(admin, 'POST'), body: '{"name":' });
    expect(malformed.status).toBe(400);
    const text = await call('/v1/devices', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/plain' }, body: 'lab' });
    expect(text.status).toBe(415);
    expect((await text.json<any>()).error.code).toBe('unsupported_media_type');
  });
});

describe('constantTimeEqual', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['', '', true],
    ['a'.repeat(64), 'a'.repeat(63) + 'b', false],
  ])('%s vs %s: %s', (a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
  });
});
