import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Manifest } from '../../shared/index.ts';
import { call, classify, expectClassification, fromBase64, newToken, publishFixture, sampleBytes } from './helpers.ts';

let manifest: Manifest;
let token: string;

beforeAll(async () => {
  manifest = await publishFixture();
  token = await newToken();
});

describe('POST /v1/classify', () => {
  it('classifies a sample photo with every class, sorted, summing to 1, and names the version', async () => {
    const res = await classify(sampleBytes(0), token);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe(manifest.version);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json<any>();
    expectClassification(body, manifest.classes, manifest.version);
    expect(body.model.name).toBe(manifest.name);
  });

  it('gives every prediction its own id', async () => {
    const [a, b] = await Promise.all([classify(sampleBytes(1), token), classify(sampleBytes(1), token)]);
    expect((await a.json<any>()).id).not.toBe((await b.json<any>()).id);
  });

  it.each([
    ['png', 'image/png'],
    ['webp', 'image/webp'],
  ] as const)('decodes a lossless %s of a sample to the same pixels as its JPEG', async (format, type) => {
    const images = inject('images');
    const fromJpeg = await (await classify(sampleBytes(0), token)).json<any>();
    const res = await classify(fromBase64(images[format]), token, { type });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expectClassification(body, manifest.classes, manifest.version);
    expect(body.predictions).toEqual(fromJpeg.predictions);
  });

  it('serves a version named in the query to a token that may pin it', async () => {
    await publishFixture('renamed-copy');
    const res = await classify(sampleBytes(0), await newToken(true), { query: '?version=renamed-copy' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe('renamed-copy');
  });
});

describe('public routes', () => {
  it('GET /healthz answers without a token', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /v1/info reports the wasm backend with SIMD, never cpu', async () => {
    const res = await call('/v1/info', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.backend).toMatchObject({ name: 'wasm', simd: true, threads: false });
    expect(body.formats).toEqual(['image/jpeg', 'image/png', 'image/webp']);
  });

  it('GET /v1/info shows the isolate warmed its backend and JPEG codec up when it started, not in a request', async () => {
    let warmUp: { state: string; ms: number | null } = { state: 'pending', ms: null };
    for (let i = 0; i < 100 && warmUp.state === 'pending'; i++) {
      const res = await call('/v1/info', { headers: { authorization: `Bearer ${token}` } });
      warmUp = (await res.json<any>()).backend.warmUp;
      if (warmUp.state === 'pending') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(warmUp.state).toBe('done');
    expect(warmUp.ms).toBeGreaterThanOrEqual(0);
  });

  it('GET /openapi.json is an OpenAPI 3.1 document of every route', async () => {
    const res = await call('/openapi.json');
    expect(res.status).toBe(200);
    const doc = await res.json<any>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/healthz', '/v1/classify', '/v1/classify/batch', '/v1/devices', '/v1/devices/{name}', '/v1/feedback', '/v1/info', '/v1/models', '/v1/models/{version}', '/v1/models/{version}/report', '/v1/routing', '/v1/routing/rollback', '/v1/stats'].sort(),
    );
    expect(Object.keys(doc.paths['/v1/classify'].post.requestBody.content)).toEqual(['image/jpeg', 'image/png', 'image/webp']);
    expect(doc.components.schemas.Classification.required).toEqual(expect.arrayContaining(['id', 'model', 'top', 'predictions', 'review', 'timing']));
  });
});
