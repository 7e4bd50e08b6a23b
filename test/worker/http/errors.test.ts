import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Manifest } from '../../../shared/index.ts';
import { classify, expectClassification, fromBase64, newToken, publishFixture, sampleBytes } from '../helpers.ts';

let manifest: Manifest;
let token: string;
let admin: string;

beforeAll(async () => {
  manifest = await publishFixture();
  token = await newToken();
  admin = await newToken(true);
});

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

const jpeg = () => sampleBytes(0);
const cases: { name: string; body: () => Uint8Array | string | null; type?: string | null; query?: string; admin?: boolean; status: number; code: string }[] = [
  { name: 'an empty body', body: () => new Uint8Array(0), status: 400, code: 'empty_body' },
  { name: 'no body at all', body: () => null, status: 400, code: 'empty_body' },
  { name: 'random bytes', body: () => randomBytes(4096), status: 400, code: 'invalid_image' },
  { name: 'a truncated JPEG', body: () => jpeg().subarray(0, Math.floor(jpeg().length / 2)), status: 400, code: 'invalid_image' },
  { name: 'a JPEG cut inside its headers', body: () => jpeg().subarray(0, 40), status: 400, code: 'invalid_image' },
  { name: 'a JPEG cut to 30% with an end-of-image marker appended', body: () => Uint8Array.from([...jpeg().subarray(0, Math.floor(jpeg().length * 0.3)), 0xff, 0xd9]), status: 400, code: 'invalid_image' },
  { name: 'a JPEG with garbage in its scan', body: () => { const b = jpeg().slice(); b.fill(0xff, 800, 900); return b; }, status: 400, code: 'invalid_image' },
  { name: 'a truncated PNG', body: () => fromBase64(inject('images').png).subarray(0, 2000), type: 'image/png', status: 400, code: 'invalid_image' },
  { name: 'text/plain', body: () => 'hello', type: 'text/plain', status: 415, code: 'unsupported_media_type' },
  { name: 'a JPEG sent as text/plain', body: jpeg, type: 'text/plain; charset=utf-8', status: 415, code: 'unsupported_media_type' },
  { name: 'no content type', body: jpeg, type: null, status: 415, code: 'unsupported_media_type' },
  { name: 'a body over 10 MiB', body: () => randomBytes(10 * 1024 * 1024 + 1), status: 413, code: 'body_too_large' },
  { name: 'an image over 4096 pixels wide', body: () => fromBase64(inject('images').wide), type: 'image/png', status: 413, code: 'image_too_large' },
  { name: 'an unknown model version', body: jpeg, query: '?version=no-such-version', admin: true, status: 404, code: 'model_not_found' },
  { name: 'a malformed model version', body: jpeg, query: '?version=../etc', admin: true, status: 404, code: 'model_not_found' },
];

async function storedState() {
  const objects = (await env.MODELS.list()).objects.map((o) => `${o.key}:${o.etag}`).sort();
  const devices = await env.DB.prepare('SELECT token_id, revoked_at FROM devices ORDER BY token_id').all();
  return { objects, devices: devices.results };
}

describe('bad input gets a 4xx JSON error and changes nothing', () => {
  it.each(cases)('$name: $status $code', async ({ body, type, query, admin: asAdmin, status, code }) => {
    const before = await storedState();
    const res = await classify(body(), asAdmin ? admin : token, { type, query });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = await res.json<any>();
    expect(json.error.code).toBe(code);
    expect(json.error.message).toEqual(expect.any(String));
    expect(json.error.message.length).toBeGreaterThan(5);
    expect(await storedState()).toEqual(before);
  });

  it('still classifies correctly after all of them', async () => {
    const res = await classify(sampleBytes(0), token);
    expect(res.status).toBe(200);
    expectClassification(await res.json(), manifest.classes, manifest.version);
  });
});

describe('unknown routes', () => {
  it('are a JSON 404', async () => {
    const res = await classify(sampleBytes(0), token, { query: '/extra' });
    expect(res.status).toBe(404);
    expect((await res.json<any>()).error.code).toBe('not_found');
  });
});
