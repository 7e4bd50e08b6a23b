import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, newToken, publishFixture, settled } from '../helpers.ts';
import { inject } from 'vitest';

let tiny: Uint8Array;
beforeAll(async () => {
  await publishFixture();
  tiny = fromBase64(inject('images').tiny);
});

// An hour's window: with a minute's, a test's requests straddled two windows when it ran across a
// minute boundary, and the count started over (seen once in CI).
const limits = { RATE_LIMIT_DEVICE_REQUESTS: '5', RATE_LIMIT_ADMIN_REQUESTS: '3', RATE_LIMIT_WINDOW_SECONDS: '3600' };
const auth = (t: string) => ({ authorization: `Bearer ${t}` });
const classifyTiny = (token: string, vars: Partial<Env> = limits) =>
  settled('/v1/classify', { method: 'POST', headers: { ...auth(token), 'content-type': 'image/png' }, body: tiny as Uint8Array<ArrayBuffer> }, vars);
const stats = (token: string) => settled('/v1/stats', { headers: auth(token) }, limits);

describe('rate limit per device token', () => {
  it('a device over its limit gets 429 JSON with Retry-After; other devices are unaffected', async () => {
    const [greedy, other] = [await newToken(), await newToken()];
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await classifyTiny(greedy)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const refused = await classifyTiny(greedy);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(refused.headers.get('x-request-id')).toBeTruthy();
    const body = await refused.json<any>();
    expect(body).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('retry after') } });
    expect((await classifyTiny(other)).status).toBe(200);
  });

  it('concurrent requests are counted exactly', async () => {
    const token = await newToken();
    const statuses = await Promise.all(Array.from({ length: 12 }, () => classifyTiny(token).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it('admin routes have their own bucket and limit', async () => {
    const admin = await newToken(true);
    for (let i = 0; i < 3; i++) expect((await stats(admin)).status).toBe(200);
    expect((await stats(admin)).status).toBe(429);
    // The same token's device-route bucket is untouched.
    expect((await classifyTiny(admin)).status).toBe(200);
  });

  it('a refused request stores no prediction', async () => {
    const token = await newToken();
    for (let i = 0; i < 8; i++) await classifyTiny(token);
    const name = (await env.DB.prepare('SELECT name FROM devices ORDER BY created_at DESC, rowid DESC LIMIT 1').first<{ name: string }>())!.name;
    const stored = await env.DB.prepare('SELECT COUNT(*) AS n FROM predictions WHERE device = ?').bind(name).first<{ n: number }>();
    expect(stored!.n).toBe(5);
  });

  it('a new window starts a new count, and old windows are deleted', async () => {
    const token = await newToken();
    const short = { ...limits, RATE_LIMIT_WINDOW_SECONDS: '1' };
    let status = 0;
    for (let i = 0; i < 6; i++) status = (await classifyTiny(token, short)).status;
    // 6 requests may straddle a window boundary; wait for a fresh one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await classifyTiny(token, short)).status).toBe(200);
    void status;
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM rate_limits WHERE bucket LIKE 'device:%' GROUP BY bucket ORDER BY n DESC LIMIT 1").first<{ n: number }>();
    expect(rows!.n).toBe(1);
  });

  it('the limits default to wrangler.toml values when a var is malformed', async () => {
    const token = await newToken();
    expect((await classifyTiny(token, { RATE_LIMIT_DEVICE_REQUESTS: 'lots', RATE_LIMIT_WINDOW_SECONDS: '-1' })).status).toBe(200);
  });
});

describe('rate limit across isolates', () => {
  const windowStart = () => Math.floor(Date.now() / 3_600_000) * 3600;
  const lastName = async () => (await env.DB.prepare('SELECT name FROM devices ORDER BY rowid DESC LIMIT 1').first<{ name: string }>())!.name;
  // Another isolate's requests, as D1 records them.
  const otherIsolates = (name: string, count: number) =>
    env.DB.prepare('INSERT INTO rate_limits (bucket, window_start, count) VALUES (?1, ?2, ?3) ON CONFLICT (bucket, window_start) DO UPDATE SET count = ?3')
      .bind(`device:${name}`, windowStart(), count)
      .run();

  it("the first request of a window waits for D1's count, which includes other isolates", async () => {
    const token = await newToken();
    await otherIsolates(await lastName(), 4);
    expect((await classifyTiny(token)).status).toBe(200);
    expect((await classifyTiny(token)).status).toBe(429);
  });

  it("later requests learn other isolates' counts from the answer to their own increment", async () => {
    const token = await newToken();
    expect((await classifyTiny(token)).status).toBe(200);
    await otherIsolates(await lastName(), 3);
    // Decided on what this isolate knew (1), then counted in D1 after the response: 4.
    expect((await classifyTiny(token)).status).toBe(200);
    // 4 known + this one = 5: still within the limit; the next is over it.
    expect((await classifyTiny(token)).status).toBe(200);
    expect((await classifyTiny(token)).status).toBe(429);
  });
});
