import { env } from 'cloudflare:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { SELF_TEST_TOLERANCE, selfTestDifference, selfTestInputs, type SelfTest } from '../../../shared/index.ts';
import { ensureBackend, tf } from '../../../worker/inference/backend.ts';
import { HttpError } from '../../../worker/errors.ts';
import { loadVersion } from '../../../worker/models/loader.ts';
import { buildNetwork, type SavedModel } from '../../../worker/inference/neural-network.ts';
import { classify, fixtureVersion, newToken, publishFixture, sampleBytes, savedOf } from '../helpers.ts';

/** What the trainer records: model.predict on the seeded batch. */
async function recorded(model: tfl.LayersModel, seed = 3, count = 2): Promise<SelfTest> {
  const [, h, w, c] = model.inputs[0].shape as number[];
  const out = tf.tidy(() => model.predict(tf.tensor4d(selfTestInputs(seed, count, h, w, c), [count, h, w, c])) as tf.Tensor);
  const outputs = Array.from(await out.data());
  out.dispose();
  return { seed, count, outputs };
}

const codeOf = (promise: Promise<unknown>) => promise.then(() => 'loaded', (e: unknown) => (e instanceof HttpError ? e.code : String(e)));

describe('the load-time check of a version\'s network', () => {
  beforeAll(() => ensureBackend());

  it('the default model records a self-test, and the Worker reproduces it', async () => {
    const { manifest } = fixtureVersion();
    expect(manifest.selfTest).toMatchObject({ count: 2, outputs: expect.any(Array) });
    expect(manifest.selfTest!.outputs).toHaveLength(2 * manifest.classes.length);
    await publishFixture();
    const loaded = await loadVersion(env, manifest.version);
    expect(loaded.network.kind).toBe('plan');
    const { seed, count, outputs } = manifest.selfTest!;
    const { height, width, channels } = manifest.input;
    const out = tf.tidy(() => loaded.network.run(tf.tensor4d(selfTestInputs(seed, count, height, width, channels), [count, height, width, channels])));
    const diff = selfTestDifference(outputs, await out.data());
    out.dispose();
    loaded.network.dispose();
    // Trainer (tfjs cpu, Node) against the Worker (wasm, workerd): reordering noise only.
    expect(diff).toBeLessThanOrEqual(SELF_TEST_TOLERANCE / 10);
    console.log(`self-test of ${manifest.version}: largest |worker - trainer| ${diff.toExponential(2)}`);
  });

  it('a version written before self-tests is checked against model.predict and still runs the plan', async () => {
    await publishFixture('no-self-test', { patch: { selfTest: undefined } });
    const loaded = await loadVersion(env, 'no-self-test');
    expect(loaded.manifest.selfTest).toBeUndefined();
    expect(loaded.network.kind).toBe('plan');
    loaded.network.dispose();
  });

  describe('a network the plan does not know (a separable conv)', () => {
    let model: tfl.LayersModel;
    let saved: SavedModel;
    // The Worker says why it falls back to model.predict: checked here rather than printed.
    let said: MockInstance<typeof console.info>;
    beforeAll(() => void (said = vi.spyOn(console, 'info').mockImplementation(() => {})));
    afterEach(() => {
      expect(said.mock.calls.map((args) => args.join(' '))).toEqual(['model sep: separable_conv2d_SeparableConv2D1 (SeparableConv2D): layer type not supported; it runs with model.predict']);
      said.mockClear();
    });
    afterAll(() => said.mockRestore());
    beforeAll(async () => {
      model = tfl.sequential({ layers: [tfl.layers.separableConv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3 }), tfl.layers.flatten(), tfl.layers.dense({ units: 3, activation: 'softmax' })] });
      saved = await savedOf(model);
    });

    it.each([
      ['with its own self-test, runs with model.predict', (t: SelfTest) => t, 'loaded'],
      ['with a self-test it does not reproduce, is refused', (t: SelfTest) => ({ ...t, outputs: t.outputs.map((v, i) => (i === 1 ? v + 0.01 : v)) }), 'model_integrity'],
      ['with a self-test of the wrong length, is refused', (t: SelfTest) => ({ ...t, outputs: t.outputs.slice(1) }), 'model_integrity'],
      ['without a self-test, runs with model.predict', () => undefined, 'loaded'],
    ])('%s', async (_, selfTest, outcome) => {
      const network = buildNetwork('sep', saved, 3, selfTest(await recorded(model)));
      expect(await codeOf(network)).toBe(outcome);
      if (outcome === 'loaded') {
        expect((await network).kind).toBe('layers');
        (await network).dispose();
      }
    });

    it('whose output does not match the manifest\'s classes is model_invalid', async () => {
      expect(await codeOf(buildNetwork('sep', saved, 4, await recorded(model)))).toBe('model_invalid');
    });
  });
});

describe('a published version whose self-test the Worker does not reproduce', () => {
  it('is never served: classify is 503 model_integrity, the default version keeps serving', async () => {
    const token = await newToken(true);
    await publishFixture('good-self-test');
    const selfTest = fixtureVersion().manifest.selfTest!;
    await publishFixture('off-self-test', { patch: { selfTest: { ...selfTest, outputs: selfTest.outputs.map((v, i) => (i === 0 ? v + 0.001 : v)) } } });
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bad = await classify(sampleBytes(0), token, { query: '?version=off-self-test' });
    expect(bad.status).toBe(503);
    // The folded pass cannot match a changed self-test either: it gives way to model.predict first.
    expect(warned.mock.calls.map((args) => args.join(' '))).toEqual([expect.stringMatching(/model off-self-test: the folded forward pass is off by 0\.00(?:09|10)\d* on the load-time check; it runs with model\.predict$/)]);
    warned.mockRestore();
    expect((await bad.json<any>()).error).toMatchObject({ code: 'model_integrity', message: expect.stringContaining('self-test') });
    const good = await classify(sampleBytes(0), token, { query: '?version=good-self-test' });
    expect(good.status).toBe(200);
  });
});

