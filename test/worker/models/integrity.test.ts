import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../shared/index.ts';
import { publishVersion } from '../../../scripts/lib/publish-core.ts';
import { call, classify, fixtureVersion, newToken, publishFixture, publishTarget, sampleBytes } from '../helpers.ts';

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
    expect(models.find((m: any) => m.version === version)).toMatchObject({ status: 'invalid', default: false, reason: expect.stringContaining(file) });
    // The newest publish, but refused: the default is a version that passes its checks.
    expect(models.filter((m: any) => m.default).map((m: any) => m.status)).toEqual([expect.stringMatching(/^(ready|published)$/)]);
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

/** Publishes a copy whose model.json is edited, with the manifest's sha256 updated to match (so only the content is wrong). */
async function publishWithModelJson(version: string, edit: (json: any) => string | void) {
  const fixture = fixtureVersion(version);
  const json = JSON.parse(new TextDecoder().decode(fixture.files.get('model.json')));
  const text = edit(json) ?? JSON.stringify(json);
  const bytes = new Uint8Array(new TextEncoder().encode(text));
  fixture.files.set('model.json', bytes);
  const sha256 = await sha256Hex(bytes);
  const files = fixture.manifest.files.map((f) => (f.path === 'model.json' ? { ...f, bytes: bytes.length, sha256 } : f));
  fixture.manifest = { ...fixture.manifest, files };
  fixture.manifestBytes = new TextEncoder().encode(JSON.stringify(fixture.manifest));
  await publishVersion(publishTarget(), fixture);
}

describe('a version whose model.json is intact but wrong is refused, not a 500', () => {
  it.each([
    ['not JSON', 'bad-json', () => '{"modelTopology": ', 'model_invalid'],
    ['no weights manifest', 'no-weights-manifest', (json: any) => void delete json.weightsManifest, 'model_invalid'],
    ['a weight shape larger than weights.bin', 'long-weight', (json: any) => void (json.weightsManifest[0].weights[0].shape = [3, 3, 3, 2400]), 'model_invalid'],
    // Runs (with model.predict: the plan knows no elu) but does not reproduce the trainer's self-test.
    ['a layer set to an activation the network never had', 'other-activation', (json: any) => void (json.modelTopology.config.layers.find((l: any) => l.class_name === 'Activation').config.activation = 'elu'), 'model_integrity'],
  ])('%s: classify is 503 with a JSON error naming the version', async (_, version, edit, code) => {
    await publishWithModelJson(version, edit);
    const res = await classify(sampleBytes(0), token, { query: `?version=${version}` });
    expect(res.status).toBe(503);
    const { error } = await res.json<any>();
    expect(error.code).toBe(code);
    expect(error.message).toContain(`model ${version}`);
  });
});
