import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { publishVersion, type ModelBucket } from '../../../scripts/lib/publish-core.ts';
import { classifySettled, fixtureVersion, jsonInit, newToken, publishFixture, publishTarget, sampleBytes, settled } from '../helpers.ts';

let admin: string;
let devices: string[];
let original: Uint8Array;
// Re-check resident versions' files on every request, so a change in the bucket shows at once.
const vars = { MODEL_RECHECK_SECONDS: '0' };
// The Worker warns when it takes a version out of service: checked below rather than printed.
const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
const warnings = () => warned.mock.calls.map((args) => args.map(String).join(' '));

const versionsOf = async (tokens: string[]) =>
  Promise.all(
    tokens.map(async (token) => {
      const res = await classifySettled(token, { vars });
      expect(res.status).toBe(200);
      return res.headers.get('x-model-version')!;
    }),
  );
const stats = async () => Object.fromEntries((await (await settled('/v1/stats', jsonInit(admin, 'GET'))).json<any>()).versions.map((v: any) => [v.version, v]));

async function overwrite(key: string, bytes?: Uint8Array) {
  const current = new Uint8Array(await (await env.MODELS.get(key))!.arrayBuffer());
  // Other bytes of the same length: only the sha256 can tell.
  await env.MODELS.put(key, bytes ?? current.map((b, i) => (i % 3 === 0 ? b ^ 0x5a : b)));
  return current;
}

beforeAll(async () => {
  await publishFixture('h-v1');
  await publishFixture('h-v2');
  admin = await newToken(true);
  devices = await Promise.all(Array.from({ length: 20 }, () => newToken()));
  expect((await settled('/v1/routing', jsonInit(admin, 'PUT', { split: { 'h-v1': 50, 'h-v2': 50 }, salt: 'failover' }))).status).toBe(200);
});

describe('a version whose weights are overwritten in the bucket', () => {
  let before: string[];

  it('is taken out of service: the healthy version answers, with no 5xx', async () => {
    before = await versionsOf(devices);
    expect(new Set(before)).toEqual(new Set(['h-v1', 'h-v2']));
    original = await overwrite('h-v2/weights.bin');
    expect(await versionsOf(devices)).toEqual(devices.map(() => 'h-v1'));
    expect(warnings()).toEqual([
      expect.stringMatching(/^\[request [\w-]+\] model h-v2: a file or its manifest changed since it was verified; unloading it$/),
      expect.stringMatching(/^\[request [\w-]+\] routing: h-v2 cannot serve \(model h-v2: weights\.bin does not match its sha256 in the manifest\); its share goes to the other versions of the split$/),
    ]);
    const form = new FormData();
    form.append('image', new File([sampleBytes(0)], 'cell.jpeg', { type: 'image/jpeg' }));
    const batch = await settled('/v1/classify/batch', { method: 'POST', headers: { authorization: `Bearer ${devices[before.indexOf('h-v2')]}` }, body: form }, vars);
    expect(batch.status).toBe(200);
    expect(batch.headers.get('x-model-version')).toBe('h-v1');
  });

  it('is listed as invalid, and its lost traffic is counted as fallbacks', async () => {
    const { models } = await (await settled('/v1/models', jsonInit(admin, 'GET'), vars)).json<any>();
    expect(models.find((m: any) => m.version === 'h-v2')).toMatchObject({ status: 'invalid', reason: expect.stringContaining('weights.bin') });
    const versions = await stats();
    const moved = before.filter((v) => v === 'h-v2').length + 1;
    expect(versions['h-v2'].fallbacks).toEqual({ answeredFor: 0, sentElsewhere: moved });
    expect(versions['h-v1'].fallbacks).toEqual({ answeredFor: moved, sentElsewhere: 0 });
  });

  it('cannot be routed to, and pinning it is a 503 that says why', async () => {
    const put = await settled('/v1/routing', jsonInit(admin, 'PUT', { split: { 'h-v2': 100 } }));
    expect(put.status).toBe(422);
    expect((await put.json<any>()).error.code).toBe('unverified_version');
    const pinned = await classifySettled(admin, { pin: 'h-v2', vars });
    expect(pinned.status).toBe(503);
    expect((await pinned.json<any>()).error).toMatchObject({ code: 'model_integrity', message: expect.stringContaining('weights.bin') });
  });

  it('with no healthy version left, answers 503 JSON; restoring the file brings the version back', async () => {
    const v1 = await overwrite('h-v1/weights.bin');
    warned.mockClear();
    const res = await classifySettled(devices[0], { vars });
    expect(res.status).toBe(503);
    expect(warnings()).toEqual([expect.stringContaining('model h-v1: a file or its manifest changed since it was verified; unloading it'), expect.stringContaining('routing: h-v1 cannot serve')]);
    const error = (await res.json<any>()).error;
    expect(error.code).toBe('no_healthy_version');
    expect(error.message).toMatch(/h-v1.*h-v2|h-v2.*h-v1/);
    await overwrite('h-v1/weights.bin', v1);
    await overwrite('h-v2/weights.bin', original);
    expect(await versionsOf(devices)).toEqual(before);
  });
});

describe('a publish interrupted half-way', () => {
  it('leaves no visible version, and running it again completes it', async () => {
    const version = fixtureVersion('h-v3');
    let puts = 0;
    // Fails on the second upload, as a dropped connection would.
    const flaky: ModelBucket = {
      head: (key) => env.MODELS.head(key),
      get: (key) => env.MODELS.get(key),
      put: async (key, value, options) => {
        if (++puts === 2) throw new Error('connection reset');
        return env.MODELS.put(key, value, options);
      },
    };
    await expect(publishVersion(publishTarget(flaky), version)).rejects.toThrow('connection reset');
    const { models } = await (await settled('/v1/models', jsonInit(admin, 'GET'))).json<any>();
    expect(models.find((m: any) => m.version === 'h-v3')).toMatchObject({ status: 'incomplete' });
    expect((await classifySettled(admin, { pin: 'h-v3' })).status).toBe(404);
    expect((await settled('/v1/routing', jsonInit(admin, 'PUT', { split: { 'h-v1': 50, 'h-v3': 50 } }))).status).toBe(422);

    await publishVersion(publishTarget(), version);
    const res = await classifySettled(admin, { pin: 'h-v3' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('h-v3');
    expect((await settled('/v1/routing', jsonInit(admin, 'PUT', { split: { 'h-v1': 50, 'h-v3': 50 } }))).status).toBe(200);
  });
});
