import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { pixelTestDifference, pixelTestImage, preprocess, SELF_TEST_TOLERANCE, type Manifest } from '../../../shared/index.ts';
import { ensureBackend } from '../../../worker/inference/backend.ts';
import { infer } from '../../../worker/inference/classify-images.ts';
import { loadVersion } from '../../../worker/models/loader.ts';
import { classifySettled, fixtureVersion, manifestChanges, newToken, publishFixture } from '../helpers.ts';

let admin: string;
const { manifest } = fixtureVersion();
const pixelTest = () => inject('pixelTest');

beforeAll(async () => {
  await ensureBackend();
  admin = await newToken(true);
});

describe("the pixel test: the trainer's answer to a synthetic photo through the whole serving path", () => {
  it('the Worker answers it as the trainer did (tfjs cpu in Node), class by class', async () => {
    await publishFixture('px-ok', { patch: { pixelTest: pixelTest() } });
    const loaded = await loadVersion(env, 'px-ok');
    const { seed, width, height, probabilities } = pixelTest();
    const computed = await infer(preprocess(pixelTestImage(seed, width, height), manifest.preprocessing), loaded);
    const diff = pixelTestDifference(probabilities, Object.fromEntries(manifest.classes.map((c, i) => [c, computed[i]])), manifest.classes);
    loaded.network.dispose();
    expect(diff).toBeLessThanOrEqual(SELF_TEST_TOLERANCE / 10);
    console.log(`pixel test of ${manifest.version}: largest |worker - trainer| ${diff.toExponential(2)}`);
    expect((await classifySettled(admin, { pin: 'px-ok' })).status).toBe(200);
  });

  // Published as they are, so their digest is recorded: only the pixel test can tell.
  const crop: [string, (m: Manifest) => Manifest] = ['crop changed', (m) => ({ ...m, preprocessing: { ...m.preprocessing, crop: m.preprocessing.crop === 'stain' ? 'full' : 'stain' } })];
  const temperature: [string, (m: Manifest) => Manifest] = ['temperature changed', (m) => ({ ...m, inference: { ...m.inference!, temperature: m.inference!.temperature * 2 } })];
  it.each([...manifestChanges.filter(([name]) => !name.includes('threshold')), crop, temperature])('a manifest with its %s, even recorded at publish, is refused: 503 model_integrity', async (_, change) => {
    const version = `px-${crypto.randomUUID().slice(0, 8)}`;
    const changed = change({ ...manifest, version, pixelTest: pixelTest() });
    await publishFixture(version, { patch: changed });
    const res = await classifySettled(admin, { pin: version });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error).toEqual({ code: 'model_integrity', message: expect.stringContaining(`model ${version}: its answer to the manifest's pixel test is off by`) });
  });

  it.each<[string, (d: Extract<NonNullable<Manifest['domain']>, { version: 3 }>) => object]>([
    ['feature distance halved', (d) => ({ ...d, features: { ...d.features, distance: d.features.distance / 2 } })],
    ['the class centres moved', (d) => ({ ...d, features: { ...d.features, centres: d.features.centres.map((c) => c.map((v) => v + 0.5)) } })],
    ['statistics distance halved', (d) => ({ ...d, distance: d.distance / 2 })],
  ])('a manifest with its domain profile changed (%s), even recorded at publish, is refused: 503 model_integrity', async (_, change) => {
    expect(manifest.domain?.version).toBe(3);
    const version = `px-${crypto.randomUUID().slice(0, 8)}`;
    const domain = change(manifest.domain as Extract<NonNullable<Manifest['domain']>, { version: 3 }>);
    await publishFixture(version, { patch: { ...manifest, version, pixelTest: pixelTest(), domain } as Manifest });
    const res = await classifySettled(admin, { pin: version });
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error).toEqual({ code: 'model_integrity', message: expect.stringMatching(new RegExp(`^model ${version}: the pixel test's (domain|feature) score is`)) });
  });

  it('a version written before pixel tests loads as before', async () => {
    await publishFixture('px-none', { patch: { pixelTest: undefined } });
    expect((await classifySettled(admin, { pin: 'px-none' })).status).toBe(200);
  });
});
