import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevice } from '../../../worker/devices/store.ts';
import { jsonInit, newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

let admin: string;
beforeAll(async () => {
  await publishFixture();
  admin = await newToken(true);
});

const provision = (name: string) => settled('/v1/devices', jsonInit(admin, 'POST', { name }));
const classifyWith = (token: string, vars: Partial<Env> = {}) =>
  settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: sampleBytes(0) }, vars);

describe('device names are unique whatever their case', () => {
  it('a name differing only in case is 409 through the API and the CLI code; pins and revocation take any case', async () => {
    const created = await provision('lab-1');
    expect(created.status).toBe(201);
    const { token } = await created.json<{ token: string }>();
    for (const name of ['LAB-1', 'Lab-1']) {
      const res = await provision(name);
      expect(res.status).toBe(409);
      expect(await res.json()).toEqual({ error: { code: 'device_exists', message: `device "${name}" already has an active token (names are the same whatever their case); revoke it first` } });
    }
    await expect(createDevice(env.DB, 'LAB-1', false)).rejects.toMatchObject({ status: 409, code: 'device_exists' });

    expect((await settled('/v1/devices/LAB-1', jsonInit(admin, 'PATCH', { pins: ['*'] }))).status).toBe(200);
    expect((await env.DB.prepare("SELECT pins FROM devices WHERE name = 'lab-1' AND revoked_at IS NULL").first<{ pins: string }>())?.pins).toBe('["*"]');
    expect((await classifyWith(token)).status).toBe(200);
    expect((await settled('/v1/devices/Lab-1', jsonInit(admin, 'DELETE'))).status).toBe(204);
    expect((await classifyWith(token)).status).toBe(401);
    expect((await provision('LAB-1')).status).toBe(201);
    const { devices } = await (await settled('/v1/devices', jsonInit(admin, 'GET'))).json<{ devices: { name: string }[] }>();
    expect(devices.filter((d) => d.name.toLowerCase() === 'lab-1').map((d) => d.name)).toEqual(['LAB-1']);
  });

  it("a device renamed in case keeps its rate-limit count: the window is the name's, whatever its case", async () => {
    const limits = { RATE_LIMIT_DEVICE_REQUESTS: '2', RATE_LIMIT_WINDOW_SECONDS: '3600' };
    const first = (await (await provision('counted')).json<{ token: string }>()).token;
    expect([(await classifyWith(first, limits)).status, (await classifyWith(first, limits)).status]).toEqual([200, 200]);
    expect((await settled('/v1/devices/counted', jsonInit(admin, 'DELETE'))).status).toBe(204);
    const second = (await (await provision('COUNTED')).json<{ token: string }>()).token;
    expect((await classifyWith(second, limits)).status).toBe(429);
  });
});

describe('migration 0005 on a database that already holds names differing in case', () => {
  it('keeps the earliest active token of each name, revokes the later ones, and loses no row', async () => {
    // The database as it was before: the case-sensitive index only.
    await env.DB.batch([
      env.DB.prepare('DROP INDEX devices_active_name_nocase'),
      env.DB.prepare('CREATE UNIQUE INDEX devices_active_name ON devices (name) WHERE revoked_at IS NULL'),
    ]);
    const row = (id: string, name: string, createdAt: string, revokedAt: string | null = null) =>
      env.DB.prepare('INSERT INTO devices (token_id, name, token_hash, admin, pins, created_at, revoked_at) VALUES (?, ?, ?, 0, ?, ?, ?)').bind(id, name, '0'.repeat(64), '[]', createdAt, revokedAt);
    await env.DB.batch([
      row('m1', 'scope-1', '2026-01-01T00:00:00.000Z'),
      row('m2', 'SCOPE-1', '2026-01-02T00:00:00.000Z'),
      row('m3', 'Scope-1', '2026-01-03T00:00:00.000Z'),
      row('m4', 'scope-1', '2025-12-01T00:00:00.000Z', '2025-12-15T00:00:00.000Z'),
      row('m5', 'scope-2', '2026-01-01T00:00:00.000Z'),
    ]);
    const before = (await env.DB.prepare('SELECT COUNT(*) AS n FROM devices').first<{ n: number }>())!.n;
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0005'))!;
    for (const query of migration.queries) await env.DB.prepare(query).run();

    const { results } = await env.DB.prepare("SELECT token_id, revoked_at FROM devices WHERE token_id LIKE 'm_' ORDER BY token_id").all<{ token_id: string; revoked_at: string | null }>();
    expect(results.map((r) => [r.token_id, r.revoked_at === null ? 'active' : 'revoked'])).toEqual([
      ['m1', 'active'], ['m2', 'revoked'], ['m3', 'revoked'], ['m4', 'revoked'], ['m5', 'active'],
    ]);
    expect(results.find((r) => r.token_id === 'm4')!.revoked_at).toBe('2025-12-15T00:00:00.000Z');
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM devices').first<{ n: number }>())!.n).toBe(before);
    await expect(createDevice(env.DB, 'SCOPE-2', false)).rejects.toMatchObject({ status: 409 });
  });
});
