import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Manifest } from '../../../shared/index.ts';
import { call, classify, expectClassification, fromBase64, newToken, publishFixture, sampleBytes } from '../helpers.ts';

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

  it.each(['white', 'black', 'grey', 'purple', 'grayscale', 'magnified', 'landscape'] as const)('flags a %s frame unlike the training photos: review with out_of_domain and a domain score over 1', async (kind) => {
    expect(manifest.domain, 'the shipped model has a domain profile').toBeDefined();
    const res = await classify(fromBase64(inject('images').unlike[kind]), token, { type: 'image/png' });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expectClassification(body, manifest.classes, manifest.version);
    expect(body).toMatchObject({ review: true, reasons: expect.arrayContaining(['out_of_domain']) });
    expect(body.domainScore).toBeGreaterThan(1);
  });

  it('gives every prediction its own id', async () => {
    const [a, b] = await Promise.all([classify(sampleBytes(1), token), classify(sampleBytes(1), token)]);
    expect((await a.json<any>()).id).not.toBe((await b.json<any>()).id);
  });

  it.each([
    ['png', 'image/png'],
    ['webp', 'image/webp'],
  ] as const)('decodes a lossless %s of a sample (as the model\'s JPEG decode sees it) to the same pixels as its JPEG', async (format, type) => {
    const images = inject('images');
    const fromJpeg = await (await classify(sampleBytes(0), token)).json<any>();
    const res = await classify(fromBase64(images.asSeen[format]), token, { type });
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

describe('Server-Timing', () => {
  /** `name;dur=1.0;desc="..."` entries as {name: duration}. */
  const metrics = (res: Response) =>
    Object.fromEntries((res.headers.get('server-timing') ?? '').split(',').filter(Boolean).map((entry) => {
      const [name, ...params] = entry.trim().split(';');
      const dur = params.find((p) => p.startsWith('dur='));
      return [name, dur ? Number(dur.slice(4)) : null];
    }));

  it('a classify answers its phases as the body times them, and the Worker\'s total', async () => {
    const res = await classify(sampleBytes(0), token);
    const { timing } = await res.json<any>();
    expect(res.headers.get('server-timing')).toMatch(/^decode;dur=\d+\.0,preprocess;dur=\d+\.0,infer;dur=\d+\.0,total;dur=\d+\.\d;desc="in the Worker"$/);
    const m = metrics(res);
    expect({ decode: m.decode, preprocess: m.preprocess, infer: m.infer }).toEqual({ decode: timing.decodeMs, preprocess: timing.preprocessMs, infer: timing.inferMs });
    expect(m.total).toBeGreaterThanOrEqual(timing.decodeMs + timing.preprocessMs + timing.inferMs);
  });

  it.each([
    ['a refused classify (no token)', () => classify(sampleBytes(0), null), 401],
    ['a batch', () => {
      const form = new FormData();
      form.append('image', new Blob([sampleBytes(0)], { type: 'image/jpeg' }), 'a.jpg');
      return call('/v1/classify/batch', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    }, 200],
  ] as const)('%s answers the total', async (_, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(Object.keys(metrics(res))).toEqual(['total']);
  });

  it('other routes answer none', async () => {
    expect((await call('/healthz')).headers.get('server-timing')).toBeNull();
  });
});

describe('public routes', () => {
  it('GET /healthz answers without a token', async () => {
    const res = await call('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /v1/info reports the wasm backend with SIMD (never cpu) and the Winograd convolutions', async () => {
    const res = await call('/v1/info', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body.backend).toMatchObject({ name: 'wasm', simd: true, threads: false, convolutions: 'winograd' });
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
