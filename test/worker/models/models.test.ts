import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../../shared/index.ts';
import { call, classify, newToken, publishFixture, sampleBytes } from '../helpers.ts';

let manifest: Manifest;
let token: string;
const get = (path: string) => call(path, { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  manifest = await publishFixture('models-a');
  token = await newToken();
});

describe('GET /v1/models', () => {
  it('lists published versions newest first, the newest as default, and leftovers as incomplete', async () => {
    await new Promise((r) => setTimeout(r, 20));
    await publishFixture('models-b');
    await env.MODELS.put('half-published/model.json', '{}');
    const res = await get('/v1/models');
    expect(res.status).toBe(200);
    const { models } = await res.json<any>();
    expect(models.map((m: any) => [m.version, m.default])).toEqual([
      ['models-b', true],
      ['models-a', false],
      ['half-published', false],
    ]);
    expect(models[0]).toMatchObject({ name: manifest.name, createdAt: manifest.createdAt, status: expect.stringMatching(/^(published|ready)$/) });
    expect(models[2].status).toBe('incomplete');
  });

  it('marks a version ready once this isolate has verified and loaded it', async () => {
    expect((await classify(sampleBytes(0), await newToken(true), { query: '?version=models-a' })).status).toBe(200);
    const { models } = await (await get('/v1/models')).json<any>();
    expect(models.find((m: any) => m.version === 'models-a').status).toBe('ready');
  });
});

describe('GET /v1/models/{version}', () => {
  it("returns the version's manifest: classes, input, metrics, quantisation", async () => {
    const res = await get('/v1/models/models-a');
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.status).toBe('ready');
    expect(body.version).toBe('models-a');
    expect(body.classes).toEqual(manifest.classes);
    expect(body.input).toEqual(manifest.input);
    expect(body.quantization).toEqual(manifest.quantization);
    expect(body.metrics).toEqual(manifest.metrics);
    expect(body.preprocessing).toEqual(manifest.preprocessing);
  });

  it.each(['nope', 'half-published'])('is 404 for %s, which has no manifest', async (version) => {
    const res = await get(`/v1/models/${version}`);
    expect(res.status).toBe(404);
    expect((await res.json<any>()).error.code).toBe('model_not_found');
  });
});
