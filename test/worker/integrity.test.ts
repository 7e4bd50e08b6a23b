import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { call, classify, newToken, publishFixture, sampleBytes } from './helpers.ts';

let token: string;

/** Publishes a copy under `version`, then overwrites one of its files in R2 with altered bytes. */
async function publishTampered(version: string, file: string, alter: (bytes: Uint8Array) => Uint8Array) {
  await publishFixture(version);
  const object = await env.MODELS.get(`${version}/${file}`);
  await env.MODELS.put(`${version}/${file}`, alter(new Uint8Array(await object!.arrayBuffer())));
}

beforeAll(async () => {
  await publishFixture('good');
  // Naming a version needs a token that may pin it.
  token = await newToken(true);
});

describe('a version whose files do not match the manifest is never served', () => {
  it.each([
    ['weights.bin with one byte changed', 'tampered-weights', 'weights.bin', (b: Uint8Array) => { const c = b.slice(); c[c.length >> 1] ^= 0x01; return c; }],
    ['weights.bin truncated', 'short-weights', 'weights.bin', (b: Uint8Array) => b.slice(0, b.length - 4)],
    ['model.json edited', 'edited-topology', 'model.json', (b: Uint8Array) => new TextEncoder().encode(new TextDecoder().decode(b).replace('"relu"', '"elu"'))],
  ])('%s: classify is 503 model_integrity, listed as invalid', async (_, version, file, alter) => {
    await publishTampered(version, file, alter);
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await classify(sampleBytes(0), token, { query: `?version=${version}` });
      expect(res.status).toBe(503);
      const body = await res.json<any>();
      expect(body.error.code).toBe('model_integrity');
      expect(body.error.message).toContain(file);
      expect(res.headers.get('x-model-version')).toBeNull();
    }
    const { models } = await (await call('/v1/models', { headers: { authorization: `Bearer ${token}` } })).json<any>();
    expect(models.find((m: any) => m.version === version)).toMatchObject({ status: 'invalid', reason: expect.stringContaining(file) });
    const detail = await (await call(`/v1/models/${version}`, { headers: { authorization: `Bearer ${token}` } })).json<any>();
    expect(detail.status).toBe('invalid');
  });

  it('a missing file is refused the same way', async () => {
    await publishFixture('missing-weights');
    await env.MODELS.delete('missing-weights/weights.bin');
    const res = await classify(sampleBytes(0), token, { query: '?version=missing-weights' });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error.message).toContain('weights.bin is missing');
  });

  it('the intact version keeps serving', async () => {
    const res = await classify(sampleBytes(0), token, { query: '?version=good' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('good');
  });
});
