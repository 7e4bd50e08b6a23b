import { env } from 'cloudflare:test';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { compileForward, dihedralVariants, plainInference, preprocess, type CompileOptions } from '../../../shared/index.ts';
import { ensureBackend, tf } from '../../../worker/inference/backend.ts';
import { infer } from '../../../worker/inference/classify-images.ts';
import { decodeImage } from '../../../worker/inference/decode.ts';
import { acquireModel } from '../../../worker/models/cache.ts';
import { loadVersion, resolveVersion, type LoadedModel } from '../../../worker/models/loader.ts';
import type { SavedModel } from '../../../worker/inference/neural-network.ts';
import { publishVersion } from '../../../scripts/lib/publish-core.ts';
import type { ModelFixture } from '../fixtures.ts';
import { fixtureVersion, fromBase64, publishFixture, publishTarget, savedOf } from '../helpers.ts';

const TOLERANCE = 1e-5;

/** Largest |a - b| over every output of two forward passes on the same batch. */
async function largestDifference(a: (x: tf.Tensor4D) => tf.Tensor, b: (x: tf.Tensor4D) => tf.Tensor, x: tf.Tensor4D): Promise<number> {
  const [expected, actual] = tf.tidy(() => [a(x), b(x)]);
  expect(actual.shape).toEqual(expected.shape);
  const worst = tf.tidy(() => tf.max(tf.abs(tf.sub(expected, actual))));
  const value = (await worst.data())[0];
  tf.dispose([expected, actual, worst]);
  return value;
}

const planOf = (saved: SavedModel, options?: CompileOptions) => compileForward(saved.modelTopology, tf.io.decodeWeights(saved.weightData, saved.weightSpecs), options);

/** A fixture's network as tfjs-layers builds it from the same files: the reference for the plan. */
async function layersModelOf(fixture: ModelFixture): Promise<tfl.LayersModel> {
  const { files } = fixtureVersion(undefined, fixture);
  const json = JSON.parse(new TextDecoder().decode(files.get('model.json')));
  const weightSpecs = json.weightsManifest.flatMap((g: { weights: tf.io.WeightsManifestEntry[] }) => g.weights);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: files.get('weights.bin')!.slice().buffer }));
}

/** Bytes the folded plan should hold: each conv/dense kernel, and one bias per layer that has one or absorbs a batch norm. */
function foldedBytes(model: tfl.LayersModel): number {
  return model.layers.reduce((n, layer, i) => {
    const name = layer.getClassName();
    if (name !== 'Conv2D' && name !== 'Dense') return n;
    const kernel = layer.getWeights()[0];
    const units = kernel.shape.at(-1)!;
    const biased = layer.getWeights().length > 1 || model.layers[i + 1]?.getClassName() === 'BatchNormalization';
    return n + 4 * (kernel.size + (biased ? units : 0));
  }, 0);
}

/** What the Worker keeps beside each 3x3 stride-1 filter with input channels in fours (8 or more) and output channels in eights: its Winograd transform, 36 floats per channel pair and 16 after each of its 36 planes. */
function winogradBytes(model: tfl.LayersModel): number {
  return model.layers.reduce((n, layer) => {
    if (layer.getClassName() !== 'Conv2D') return n;
    const [kh, kw, ci, co] = layer.getWeights()[0].shape;
    const strides = [layer.getConfig().strides].flat();
    const winograd = kh === 3 && kw === 3 && strides.every((s) => s === 1) && ci >= 8 && ci % 4 === 0 && co % 8 === 0;
    return n + (winograd ? 4 * 36 * (ci * co + 16) : 0);
  }, 0);
}

const models: [string, () => ModelFixture][] = [
  ['default model', () => inject('model')],
  ...Object.keys(inject('otherArchitectures')).map((arch): [string, () => ModelFixture] => [`${arch} fixture model`, () => inject('otherArchitectures')[arch]]),
];

describe.each(models)('the folded forward pass of the %s', (name, fixture) => {
  let loaded: LoadedModel;
  let model: tfl.LayersModel;
  let inputs: Float32Array[];
  const predict = (x: tf.Tensor4D) => model.predict(x) as tf.Tensor;

  beforeAll(async () => {
    await publishVersion(publishTarget(), fixtureVersion(undefined, fixture()));
    loaded = await loadVersion(env, fixture().version);
    model = await layersModelOf(fixture());
    // Real photos through the Worker's own decode and the version's preprocessing.
    inputs = [];
    for (const sample of inject('samples')) inputs.push(preprocess(await decodeImage(fromBase64(sample.base64), loaded.manifest.preprocessing), loaded.manifest.preprocessing));
  });
  afterAll(() => {
    loaded.network.dispose();
    model.dispose();
  });

  const batchOf = (data: Float32Array, count: number) => {
    const { height, width, channels } = loaded.manifest.input;
    return tf.tensor4d(data, [count, height, width, channels]);
  };

  it('is built at load time from the saved files, holding only the folded kernels and biases (and the Winograd transforms of its filters)', () => {
    expect(loaded.network.kind).toBe('plan');
    expect(loaded.bytes).toBe(loaded.network.bytes);
    expect(loaded.network.bytes).toBe(foldedBytes(model) + winogradBytes(model));
    const weights = model.weights.reduce((n, w) => n + w.read().size * 4, 0);
    console.log(`fused plan (${name}): ${loaded.network.bytes} bytes, against ${weights} bytes of the layers model's weights`);
  });

  it('gives what model.predict gives for every sample image, one at a time', async () => {
    let worst = 0;
    for (const input of inputs) {
      const x = batchOf(input, 1);
      worst = Math.max(worst, await largestDifference(predict, loaded.network.run, x));
      x.dispose();
    }
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
    console.log(`fused plan (${name}): ${inputs.length} sample images, largest |plan - predict| ${worst.toExponential(2)}`);
  });

  it('gives what model.predict gives for the dihedral batch of 8', async () => {
    const tta = { ...plainInference, tta: 'dihedral8' as const };
    const { width, channels } = loaded.manifest.input;
    let worst = 0;
    for (const input of inputs.filter((_, i) => i % 24 === 0)) {
      const x = batchOf(dihedralVariants(input, width, channels, tta), 8);
      worst = Math.max(worst, await largestDifference(predict, loaded.network.run, x));
      x.dispose();
    }
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
  });

  it('is what infer() runs, with the same final probabilities as model.predict', async () => {
    for (const input of inputs.slice(0, 8)) {
      const viaPlan = await infer(input, loaded);
      const viaPredict = await infer(input, { ...loaded, network: { ...loaded.network, run: predict } });
      viaPlan.forEach((p, i) => expect(Math.abs(p - viaPredict[i])).toBeLessThanOrEqual(TOLERANCE));
    }
  });
});

/** Sets every weight to seeded random values (variances positive), so folding is really exercised. */
function randomise(model: tfl.LayersModel): tfl.LayersModel {
  model.layers.forEach((layer, i) => {
    layer.setWeights(layer.weights.map((w, j) => {
      const variance = w.originalName.endsWith('moving_variance');
      return tf.randomUniform(w.shape as number[], variance ? 0.3 : -1, variance ? 2 : 1, 'float32', i * 10 + j);
    }));
  });
  return model;
}

const seq = (layers: tfl.layers.Layer[]) => tfl.sequential({ layers });
const input = { inputShape: [16, 16, 3] };

describe('layers and settings our architectures do not use yet', () => {
  beforeAll(() => ensureBackend());

  it.each([
    ['strided valid conv with bias, batch norm without scale and center, average pooling, dropout, dense relu, softmax activation', () => seq([
      tfl.layers.conv2d({ ...input, filters: 6, kernelSize: 3, strides: 2, padding: 'valid' }),
      tfl.layers.batchNormalization({ center: false, scale: false }),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      tfl.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.maxPooling2d({ poolSize: 2 }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 8, activation: 'relu' }),
      tfl.layers.dropout({ rate: 0.5 }),
      tfl.layers.dense({ units: 4 }),
      tfl.layers.activation({ activation: 'softmax' }),
    ])],
    ['conv with bias and batch norm, linear then relu activations, relu after an activated conv, dense softmax', () => seq([
      tfl.layers.conv2d({ ...input, filters: 4, kernelSize: [3, 1], padding: 'same' }),
      tfl.layers.batchNormalization({ epsilon: 0.01 }),
      tfl.layers.activation({ activation: 'linear' }),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', useBias: false }),
      tfl.layers.activation({ activation: 'relu' }),
      tfl.layers.globalAveragePooling2d({}),
      tfl.layers.dense({ units: 3, activation: 'softmax', useBias: false }),
    ])],
  ])('%s: the plan gives what model.predict gives', async (_, build) => {
    const model = randomise(build());
    const plan = planOf(await savedOf(model), { onUnsupported: (reason) => expect.fail(reason) });
    expect(plan!.inputShape).toEqual([16, 16, 3]);
    const x = tf.randomUniform([8, 16, 16, 3], -2, 2, 'float32', 3) as tf.Tensor4D;
    expect(await largestDifference((b) => model.predict(b) as tf.Tensor, plan!, x)).toBeLessThanOrEqual(TOLERANCE);
    x.dispose();
    plan!.dispose();
    model.dispose();
  });

  it.each([
    ['a separable conv', /SeparableConv2D\): layer type not supported/, () => seq([tfl.layers.separableConv2d({ ...input, filters: 4, kernelSize: 3 }), tfl.layers.flatten()])],
    ['a depthwise conv', /DepthwiseConv2D\): layer type not supported/, () => seq([tfl.layers.depthwiseConv2d({ ...input, kernelSize: 3 }), tfl.layers.flatten()])],
    ['channels_first', /data format channels_first/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3, dataFormat: 'channelsFirst' }), tfl.layers.flatten()])],
    ['a dilated conv', /dilation 2/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3, dilationRate: 2 }), tfl.layers.flatten()])],
    ['an elu conv', /activation elu/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3, activation: 'elu' }), tfl.layers.flatten()])],
    ['batch norm after pooling', /batch norm not directly after a conv/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3 }), tfl.layers.maxPooling2d({ poolSize: 2 }), tfl.layers.batchNormalization({}), tfl.layers.flatten()])],
    ['batch norm after a dense layer', /batch norm not directly after a conv/, () => seq([tfl.layers.flatten({ inputShape: [16, 16, 3] }), tfl.layers.dense({ units: 4 }), tfl.layers.batchNormalization({})])],
    ['batch norm after a relu conv', /batch norm after an activated conv/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3, activation: 'relu' }), tfl.layers.batchNormalization({}), tfl.layers.flatten()])],
    ['batch norm over another axis', /axis 1/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3 }), tfl.layers.batchNormalization({ axis: 1 }), tfl.layers.flatten()])],
    ['a sigmoid activation', /activation sigmoid/, () => seq([tfl.layers.flatten({ inputShape: [16, 16, 3] }), tfl.layers.dense({ units: 4 }), tfl.layers.activation({ activation: 'sigmoid' })])],
    ['a dense layer on image-shaped input', /dense on rank 4 input/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3 }), tfl.layers.dense({ units: 2 }), tfl.layers.flatten()])],
    ['image-shaped output', /output is not one row per image/, () => seq([tfl.layers.conv2d({ ...input, filters: 4, kernelSize: 3 })])],
    ['a functional model', /only Sequential models/, () => {
      const x = tfl.input({ shape: [16, 16, 3] });
      return tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 2 }).apply(tfl.layers.flatten().apply(x)) as tfl.SymbolicTensor });
    }],
  ])('%s: no plan, and why', async (_, reason, build) => {
    const model = build();
    const saved = await savedOf(model);
    const before = tf.memory().numTensors;
    const weights = tf.io.decodeWeights(saved.weightData, saved.weightSpecs);
    const reasons: string[] = [];
    expect(compileForward(saved.modelTopology, weights, { onUnsupported: (r) => reasons.push(r) })).toBeNull();
    expect(reasons).toEqual([expect.stringMatching(reason)]);
    // Anything folded before the refusal is freed; the weights stay the caller's.
    tf.dispose(Object.values(weights));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('weights the topology does not account for', () => {
  beforeAll(() => ensureBackend());

  it('a weight no layer uses: no plan, and why', async () => {
    const model = seq([tfl.layers.flatten({ inputShape: [16, 16, 3] }), tfl.layers.dense({ units: 2 })]);
    const saved = await savedOf(model);
    const weights = { ...tf.io.decodeWeights(saved.weightData, saved.weightSpecs), 'stray/kernel': tf.zeros([2]) };
    const reasons: string[] = [];
    expect(compileForward(saved.modelTopology, weights, { onUnsupported: (r) => reasons.push(r) })).toBeNull();
    expect(reasons).toEqual([expect.stringMatching(/weights no layer uses: stray\/kernel/)]);
    tf.dispose(Object.values(weights));
    model.dispose();
  });
});

describe('memory', () => {
  it('an evicted version frees its folded tensors with its weights', async () => {
    await ensureBackend();
    for (const version of ['mem-a', 'mem-b']) await publishFixture(version);
    const vars = { ...env, MODEL_MEMORY_BUDGET_MB: '0' };
    const baseline = tf.memory().numTensors;
    const a = await acquireModel(vars, await resolveVersion(env, 'mem-a'));
    const resident = tf.memory().numTensors - baseline;
    expect(a.loaded.network.kind).toBe('plan');
    a.release();
    // A budget of 0 keeps only the version in use: loading b unloads a.
    const b = await acquireModel(vars, await resolveVersion(env, 'mem-b'));
    expect(tf.memory().numTensors - baseline).toBe(resident);
    b.release();
  });
});
