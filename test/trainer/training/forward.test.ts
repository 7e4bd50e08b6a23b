import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activate } from '../../../trainer/training/backend.ts';
import { predictAll } from '../../../trainer/data/batches.ts';
import { predictServed, servingForward } from '../../../trainer/training/forward.ts';
import { defaultPreprocessing } from '../../../shared/index.ts';
import { fastAdam, prepareModelForTraining } from '../../../trainer/kernels/index.ts';
import { architectures } from '../../../trainer/training/architectures.ts';

const size = 32, classes = 4;

const inputs = (n: number, seed: number) => tf.randomNormal([n, size, size, 3], 0, 1, 'float32', seed);

/** A model of `arch` after a few training steps, so its batch norms hold real moving statistics. */
async function trained(arch: string): Promise<tfl.LayersModel> {
  const model = architectures[arch].build({ inputSize: size, classCount: classes, seed: 3 });
  prepareModelForTraining(model);
  model.compile({ optimizer: fastAdam(0.01), loss: 'categoricalCrossentropy' });
  for (let step = 0; step < 3; step++) {
    const x = inputs(8, step + 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32'), classes);
    await model.trainOnBatch(x, y);
    tf.dispose([x, y]);
  }
  return model;
}

function worstDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

beforeAll(async () => {
  await activate('wasm');
});

afterAll(() => {
  tf.disposeVariables();
});

describe('servingForward', () => {
  it.each(['compact', 'compact5', 'tutorial'])('%s: the folded pass gives model.predict\'s probabilities', async (arch) => {
    const model = await trained(arch);
    const x = inputs(5, 9);
    const forward = servingForward(model);
    try {
      expect(forward.kind).toBe('plan');
      const [want, got] = [model.predict(x) as tf.Tensor, forward.predict(x)];
      expect(got.shape).toEqual([5, classes]);
      expect(worstDifference(got, want)).toBeLessThan(1e-5);
      tf.dispose([want, got]);
    } finally {
      forward.dispose();
      x.dispose();
      model.dispose();
    }
  });

  it.each(['compact', 'compact5', 'tutorial'])('%s: the folded pass gives the features the last dense layer reads, from the same pass', async (arch) => {
    const model = await trained(arch);
    const x = inputs(4, 5);
    const dense = model.layers.findLast((layer) => layer.getClassName() === 'Dense')!;
    const reference = tfl.model({ inputs: model.inputs, outputs: dense.input as tfl.SymbolicTensor });
    const forward = servingForward(model);
    try {
      const [want, got] = [reference.predict(x) as tf.Tensor, forward.features(x)];
      expect(got.shape).toEqual(want.shape);
      expect(got.shape[1]).toBeGreaterThan(classes);
      expect(worstDifference(got, want)).toBeLessThan(1e-4);
      tf.dispose([want, got]);
    } finally {
      forward.dispose();
      x.dispose();
      model.dispose();
    }
  });

  it('holds a copy of the weights: training on changes the model, not a forward made before', async () => {
    const model = await trained('compact');
    const x = inputs(3, 4);
    const forward = servingForward(model);
    const before = forward.predict(x);
    const y = tf.oneHot(tf.tensor1d([3, 3, 3], 'int32'), classes);
    await model.trainOnBatch(x, y);
    const after = model.predict(x) as tf.Tensor;
    const again = forward.predict(x);
    expect(worstDifference(again, before)).toBe(0);
    expect(worstDifference(after, before)).toBeGreaterThan(1e-4);
    forward.dispose();
    // The model's own weights survive the forward's disposal.
    const still = model.predict(x) as tf.Tensor;
    expect(worstDifference(still, after)).toBe(0);
    tf.dispose([x, y, before, after, again, still]);
    model.dispose();
  });

  it('falls back to model.predict for a layer the plan does not take, and leaks no tensors either way', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [size, size, 3], filters: 8, kernelSize: 3, activation: 'tanh' }),
        tfl.layers.globalAveragePooling2d({}),
        tfl.layers.dense({ units: classes, activation: 'softmax' }),
      ],
    });
    const x = inputs(2, 5);
    const tensors = tf.memory().numTensors;
    const fallback = servingForward(model);
    expect(fallback.kind).toBe('layers');
    expect(tf.memory().numTensors).toBe(tensors);
    const [want, got] = [model.predict(x) as tf.Tensor, fallback.predict(x)];
    expect(worstDifference(got, want)).toBe(0);
    tf.dispose([want, got]);
    fallback.dispose();

    const plain = await trained('compact');
    const planTensors = tf.memory().numTensors;
    servingForward(plain).dispose();
    expect(tf.memory().numTensors).toBe(planTensors);
    tf.dispose(x);
    model.dispose();
    plain.dispose();
  });

  it('predictServed scores examples as predictAll does through model.predict, and frees its copy', async () => {
    const model = await trained('tutorial');
    const params = defaultPreprocessing(size);
    const examples = Array.from({ length: 5 }, (_, i) => ({ pixels: Uint8Array.from({ length: size * size * 3 }, (_, j) => (j * 31 + i * 17) % 256), label: i % classes }));
    const want = await predictAll(model, examples, params, classes);
    const tensors = tf.memory().numTensors;
    const got = await predictServed(model, examples, params, classes);
    expect(tf.memory().numTensors).toBe(tensors);
    expect(got).toHaveLength(want.length);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5);
    model.dispose();
  });
});
