import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, jsonInit, newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

beforeAll(() => publishFixture());

describe('outcomes written after the response, in bursts', () => {
  it('every request of a concurrent burst is stored once', async () => {
    const token = await newToken();
    const name = (await env.DB.prepare('SELECT name FROM devices ORDER BY rowid DESC LIMIT 1').first<{ name: string }>())!.name;
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: sampleBytes(i % 4) }).then((r) => r.status),
      ),
    );
    expect(statuses).toEqual(Array(12).fill(200));
    const stored = await env.DB.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS ids FROM predictions WHERE device = ?').bind(name).first<{ n: number; ids: number }>();
    expect(stored).toEqual({ n: 12, ids: 12 });
  });

  it('feedback and statistics sent right after a classify see it, before the burst is written', async () => {
    const [token, admin] = [await newToken(), await newToken(true)];
    // `call` does not wait for the after-response work, as a device would not.
    const res = await call('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: sampleBytes(1) });
    const { id } = await res.json<{ id: string }>();
    expect((await call('/v1/feedback', jsonInit(token, 'POST', { id, label: 'NEUTROPHIL' }))).status).toBe(201);
    const stats = await (await call('/v1/stats', jsonInit(admin, 'GET'))).json<{ versions: { requests: number }[] }>();
    expect(stats.versions.reduce((n, v) => n + v.requests, 0)).toBeGreaterThanOrEqual(1);
  });
});
