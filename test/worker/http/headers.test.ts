import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { API_CSP } from '../../../worker/http/security-headers.ts';
import { call, classify, jsonInit, newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

let token: string;
let admin: string;
// Installed before the first request, so the request-id wrapper writes through it.
const logged = vi.spyOn(console, 'error').mockImplementation(() => {});

beforeAll(async () => {
  await publishFixture();
  token = await newToken();
  admin = await newToken(true);
});

const auth = (t: string) => ({ authorization: `Bearer ${t}` });

// Answers of every kind: success, refusals, errors, 404s, 204s, the OpenAPI document.
const requests: { name: string; send: () => Promise<Response>; status: number }[] = [
  { name: 'health', send: () => call('/healthz'), status: 200 },
  { name: 'openapi', send: () => call('/openapi.json'), status: 200 },
  { name: 'classify', send: () => classify(sampleBytes(0), token), status: 200 },
  { name: 'no token', send: () => classify(sampleBytes(0), null), status: 401 },
  { name: 'device token on an admin route', send: () => call('/v1/stats', { headers: auth(token) }), status: 403 },
  { name: 'bad image', send: () => classify(new Uint8Array([1, 2, 3]), token), status: 400 },
  { name: 'junk JSON', send: () => call('/v1/feedback', { method: 'POST', headers: { ...auth(token), 'content-type': 'application/json' }, body: '{"id":' }), status: 400 },
  { name: 'unknown route', send: () => call('/nope/../etc/passwd'), status: 404 },
  { name: 'unknown method', send: () => call('/v1/classify', { method: 'DELETE', headers: auth(token) }), status: 404 },
];

describe('every response', () => {
  it.each(requests)('$name: $status with a request id and the security headers', async ({ send, status }) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toBe(API_CSP);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    if (status !== 200) {
      const body = await res.json<any>();
      expect(body.error.code).toEqual(expect.any(String));
      expect(JSON.stringify(body)).not.toMatch(/\/work\/|node_modules|\.ts:\d|\n\s+at /);
    } else await res.arrayBuffer();
  });

  it('a 204 carries them too', async () => {
    await call('/v1/devices', jsonInit(admin, 'POST', { name: 'to-revoke' }));
    const res = await call('/v1/devices/to-revoke', { method: 'DELETE', headers: auth(admin) });
    expect(res.status).toBe(204);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.headers.get('content-security-policy')).toBe(API_CSP);
  });

  it("keeps a caller's plain request id and replaces one that could inject text", async () => {
    const kept = await call('/healthz', { headers: { 'x-request-id': 'lab-7.scan:0042' } });
    expect(kept.headers.get('x-request-id')).toBe('lab-7.scan:0042');
    const replaced = await call('/healthz', { headers: { 'x-request-id': 'x'.repeat(300) } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives each request its own id', async () => {
    const ids = await Promise.all([1, 2, 3].map(async () => (await call('/healthz')).headers.get('x-request-id')));
    expect(new Set(ids).size).toBe(3);
  });
});

describe('the console keeps its own policy', () => {
  it('/console/ is served with its CSP, not the API one', async () => {
    const res = await call('/console/');
    await res.arrayBuffer();
    if (res.status === 404) return; // a tree without the console
    expect(res.headers.get('content-security-policy')).not.toBe(API_CSP);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('CORS', () => {
  const preflight = { method: 'OPTIONS', headers: { origin: 'https://lims.example.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } };

  it('is closed without CORS_ORIGINS: no Access-Control headers, even on a preflight', async () => {
    const res = await settled('/v1/classify', preflight);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.status).toBeGreaterThanOrEqual(400);
    const get = await settled('/v1/models', { headers: { ...auth(token), origin: 'https://lims.example.org' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers listed origins only when CORS_ORIGINS names them', async () => {
    const vars = { CORS_ORIGINS: 'https://lims.example.org, https://other.example.org' };
    const ok = await settled('/v1/classify', preflight, vars);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://lims.example.org');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await settled('/v1/classify', { ...preflight, headers: { ...preflight.headers, origin: 'https://evil.example' } }, vars);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const get = await settled('/v1/models', { headers: { ...auth(token), origin: 'https://lims.example.org' } }, vars);
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe('https://lims.example.org');
    expect(get.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });
});

describe('log lines', () => {
  it('carry the request id, in the response and in waitUntil work after it', async () => {
    // Counting fails and statistics cannot be written: both are logged, neither is a 5xx.
    const failing = (sql: string) => /rate_limits|INSERT INTO predictions/.test(sql);
    const down = () => Promise.reject(new Error('D1 is down'));
    const bound = new WeakSet<object>();
    const broken = { bind: () => { const statement = { first: down, run: down }; bound.add(statement); return statement; } };
    // A batch holding one of those statements fails as a whole, as D1's does, before it reaches
    // the database (which would log its own error about a statement it cannot read).
    const DB = new Proxy(env.DB, {
      get: (target, key) => {
        if (key === 'prepare') return (sql: string) => (failing(sql) ? broken : target.prepare(sql));
        if (key === 'batch') return (statements: D1PreparedStatement[]) => (statements.some((s) => bound.has(s)) ? down() : target.batch(statements));
        return Reflect.get(target, key).bind?.(target) ?? Reflect.get(target, key);
      },
    });
    const res = await settled('/v1/classify', { method: 'POST', headers: { ...auth(token), 'content-type': 'image/jpeg' }, body: sampleBytes(0) }, { DB } as Partial<Env>);
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id')!;
    const lines = logged.mock.calls.map((args) => args.map(String).join(' '));
    expect(lines.some((l) => l.startsWith(`[request ${id}] rate limit counter failed`))).toBe(true);
    expect(lines.some((l) => l.startsWith(`[request ${id}] recording statistics failed`))).toBe(true);
  });
});
