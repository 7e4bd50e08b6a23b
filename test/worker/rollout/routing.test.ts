import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BUCKETS, pickVersion } from '../../../worker/rollout/assignment.ts';
import { fromBase64, jsonInit, newToken, perturbWeights, publishFixture, settled } from '../helpers.ts';

// Straight to the fetch handler: the test harness's `exports.default.fetch` slows down over thousands of calls.
const call = settled;

let admin: string;
let adminName: string;
// A tiny lossless image keeps 4,000 classifications quick; routing does not look at pixels.
let tiny: Uint8Array;
// A device the 90/10 split puts on r-v2, to see that refused changes leave it there.
let onV2: string;

const routing = async () => (await (await call('/v1/routing', jsonInit(admin, 'GET'))).json<any>());
const put = (body: unknown, token = admin) => call('/v1/routing', jsonInit(token, 'PUT', body));
const rollback = (token = admin) => call('/v1/routing/rollback', jsonInit(token, 'POST'));

async function classifyTiny(token: string, pin?: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'image/png' };
  if (pin) headers['x-model-version'] = pin;
  return call('/v1/classify', { method: 'POST', headers, body: tiny });
}

/** Runs `fn` over `items`, `width` at a time. */
async function inChunks<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

beforeAll(async () => {
  await publishFixture('r-v1');
  await publishFixture('r-v2', { weights: perturbWeights });
  await publishFixture('r-v3');
  admin = await newToken(true);
  adminName = (await env.DB.prepare('SELECT name FROM devices WHERE admin = 1').first<{ name: string }>())!.name;
  tiny = fromBase64(inject('images').tiny);
});

describe('routing configuration', () => {
  it('starts empty: every request goes to the default version', async () => {
    expect(await routing()).toEqual({ routing: null, history: [] });
  });

  it('PUT /v1/routing sets a split and records who made the change and when', async () => {
    const res = await put({ split: { 'r-v1': 90, 'r-v2': 10 } });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.previous).toBeNull();
    expect(body.routing).toMatchObject({ split: { 'r-v1': 90, 'r-v2': 10 }, shadow: null, sticky: true, action: 'set', changedBy: adminName, previousId: null });
    expect(Date.now() - Date.parse(body.routing.changedAt)).toBeLessThan(60_000);
    expect((await routing()).history).toHaveLength(1);
  });

  it('2,000 devices provisioned through POST /v1/devices spread within 3 points of 90/10, each on the same version every time', async () => {
    const names = Array.from({ length: 2000 }, (_, i) => `lab-device-${i}`);
    const tokens = await inChunks(names, 50, async (name) => {
      const res = await call('/v1/devices', jsonInit(admin, 'POST', { name }));
      expect(res.status).toBe(201);
      return (await res.json<any>()).token as string;
    });
    const versionOf = (res: Response) => {
      expect(res.status).toBe(200);
      return res.headers.get('x-model-version')!;
    };
    const first = await inChunks(tokens, 50, async (token) => versionOf(await classifyTiny(token)));
    const share = first.filter((v) => v === 'r-v2').length / first.length;
    console.log(`routing: 2000 devices, ${(share * 100).toFixed(1)}% on r-v2 (target 10%)`);
    expect(new Set(first)).toEqual(new Set(['r-v1', 'r-v2']));
    expect(Math.abs(share - 0.1)).toBeLessThanOrEqual(0.03);
    onV2 = tokens[first.indexOf('r-v2')];
    const again = await inChunks(tokens, 50, async (token) => versionOf(await classifyTiny(token)));
    expect(again).toEqual(first);
  }, 300_000);

  it('a pinned version answers when the token may pin it, and is refused otherwise', async () => {
    const pinned = await classifyTiny(admin, 'r-v3');
    expect(pinned.status).toBe(200);
    expect(pinned.headers.get('x-model-version')).toBe('r-v3');
    expect((await pinned.json<any>()).model.version).toBe('r-v3');

    const device = await newToken();
    const refused = await classifyTiny(device, 'r-v3');
    expect(refused.status).toBe(403);
    expect((await refused.json<any>()).error.message).toContain('r-v3');

    const listed = await call('/v1/devices', jsonInit(admin, 'POST', { name: 'pinned-lab', pins: ['r-v3'] }));
    const { token, pins } = await listed.json<any>();
    expect(pins).toEqual(['r-v3']);
    expect((await classifyTiny(token, 'r-v3')).headers.get('x-model-version')).toBe('r-v3');
    expect((await classifyTiny(token, 'r-v2')).status).toBe(403);
    const patched = await call('/v1/devices/pinned-lab', jsonInit(admin, 'PATCH', { pins: ['*'] }));
    expect(await patched.json()).toEqual({ name: 'pinned-lab', pins: ['*'] });
    expect((await classifyTiny(token, 'r-v2')).headers.get('x-model-version')).toBe('r-v2');
    expect((await call('/v1/devices/pinned-lab', jsonInit(device, 'PATCH', { pins: [] }))).status).toBe(403);
  });
});

describe('refused changes leave the routing in force', () => {
  // r-bad has a weights file changed after publishing; the files of r-half exist, its manifest
  // does not (a publish that stopped half-way).
  beforeAll(async () => {
    await publishFixture('r-bad');
    const object = await env.MODELS.get('r-bad/weights.bin');
    const bytes = new Uint8Array(await object!.arrayBuffer());
    bytes[10] ^= 0xff;
    await env.MODELS.put('r-bad/weights.bin', bytes);
    await env.MODELS.put('r-half/model.json', '{}');
  });

  it.each([
    ['an unknown version', { split: { 'r-v1': 90, 'r-nope': 10 } }, 422, 'unknown_version', 'r-nope'],
    ['weights summing to 95', { split: { 'r-v1': 85, 'r-v2': 10 } }, 422, 'invalid_split', 'sum to 95'],
    ['weights summing to 110', { split: { 'r-v1': 100, 'r-v2': 10 } }, 422, 'invalid_split', 'sum to 110'],
    ['a fractional weight', { split: { 'r-v1': 89.5, 'r-v2': 10.5 } }, 422, 'invalid_split', '89.5'],
    ['a negative weight', { split: { 'r-v1': 110, 'r-v2': -10 } }, 422, 'invalid_split', '-10'],
    ['an empty split', { split: {} }, 422, 'invalid_split', 'names no version'],
    ['an incomplete version', { split: { 'r-v1': 90, 'r-half': 10 } }, 422, 'incomplete_version', 'publish did not finish'],
    ['a version failing its sha256 check', { split: { 'r-v1': 90, 'r-bad': 10 } }, 422, 'unverified_version', 'weights.bin does not match'],
    ['an unknown shadow', { split: { 'r-v1': 90, 'r-v2': 10 }, shadow: 'r-ghost' }, 422, 'unknown_version', 'shadow version "r-ghost"'],
    ['a weight that is not a number', { split: { 'r-v1': '90', 'r-v2': 10 } }, 400, 'invalid_request', 'split'],
    ['no split', { shadow: 'r-v3' }, 400, 'invalid_request', 'split'],
  ])('%s: %i %s, and nothing changes', async (_, body, status, code, message) => {
    const before = await routing();
    const res = await put(body);
    expect(res.status).toBe(status);
    const error = (await res.json<any>()).error;
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    expect(await routing()).toEqual(before);
    expect(before.routing.split).toEqual({ 'r-v1': 90, 'r-v2': 10 });
    expect((await classifyTiny(onV2)).headers.get('x-model-version')).toBe('r-v2');
  });

  it('a device token may not change or read the routing: 403', async () => {
    const device = await newToken();
    expect((await put({ split: { 'r-v1': 100 } }, device)).status).toBe(403);
    expect((await call('/v1/routing', jsonInit(device, 'GET'))).status).toBe(403);
    expect((await rollback(device)).status).toBe(403);
  });

  it('of two changes made at once from the same state, one is refused with 409', async () => {
    const before = await routing();
    const results = await Promise.all([put({ split: { 'r-v1': 80, 'r-v2': 20 } }), put({ split: { 'r-v1': 70, 'r-v2': 30 } })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await routing()).history).toHaveLength(before.history.length + 1);
    expect((await rollback()).status).toBe(200);
  });
});

describe('rollback', () => {
  it('restores the previous split, walks back through the history, and says when there is nothing left', async () => {
    const start = (await routing()).routing;
    const changed = await (await put({ split: { 'r-v1': 50, 'r-v2': 50 }, shadow: 'r-v3' })).json<any>();
    expect(changed.routing).toMatchObject({ split: { 'r-v1': 50, 'r-v2': 50 }, shadow: 'r-v3', salt: start.salt });

    const res = await settled('/v1/routing/rollback', jsonInit(admin, 'POST'));
    expect(res.status).toBe(200);
    const back = await res.json<any>();
    expect(back.routing).toMatchObject({ split: start.split, shadow: start.shadow, salt: start.salt, action: 'rollback', changedBy: adminName });
    expect(back.previous.id).toBe(changed.routing.id);
    expect((await routing()).routing.id).toBe(back.routing.id);

    // Walk back to the first configuration; before it there is nothing.
    for (let state = (await routing()).routing; state.previousId !== null; state = (await routing()).routing) {
      expect((await rollback()).status).toBe(200);
    }
    const none = await rollback();
    expect(none.status).toBe(409);
    expect((await none.json<any>()).error.code).toBe('nothing_to_roll_back');
    const history = (await routing()).history;
    expect(history[0].split).toEqual({ 'r-v1': 90, 'r-v2': 10 });
    expect(history.every((h: any) => h.changedBy === adminName && !Number.isNaN(Date.parse(h.changedAt)))).toBe(true);
  });
});

describe('assignment (pickVersion)', () => {
  it('moves only the devices in the points that change hands when weights move', () => {
    for (let bucket = 0; bucket < BUCKETS; bucket += 7) {
      const before = pickVersion({ a: 90, b: 10 }, bucket);
      const after = pickVersion({ a: 80, b: 20 }, bucket);
      if (before === 'b') expect(after).toBe('b');
    }
  });

  it.each([
    [{ a: 90, b: 10 }, [], { a: 0.9, b: 0.1 }],
    [{ a: 50, b: 30, c: 20 }, ['b'], { a: 50 / 70, c: 20 / 70 }],
    [{ a: 100, b: 0 }, [], { a: 1 }],
    [{ a: 60, b: 40 }, ['a', 'b'], {}],
  ] as const)('split %j without %j gives shares %j', (split, excluded, shares) => {
    const counts: Record<string, number> = {};
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const version = pickVersion(split, bucket, new Set(excluded));
      if (version) counts[version] = (counts[version] ?? 0) + 1;
    }
    const got = Object.fromEntries(Object.entries(counts).map(([v, n]) => [v, n / BUCKETS]));
    expect(Object.keys(got).sort()).toEqual(Object.keys(shares).sort());
    for (const [v, share] of Object.entries(shares)) expect(got[v]).toBeCloseTo(share, 3);
  });
});
