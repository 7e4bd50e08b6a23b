import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { wasmKernelBuilds } from '../../../shared/index.ts';
import { batchNormReluPoolTraining } from '../../../trainer/kernels/ops/batch-norm-pool.ts';
import { prepareModelForTraining, registerWasmTrainingKernels } from '../../../trainer/kernels/index.ts';
import { useKernelBuild } from '../../../trainer/kernels/simd.ts';
import { architectures } from '../../../trainer/training/architectures.ts';
import { onBoth, random, relativeError, TOLERANCE, trainingKernelNames } from './kernel-helpers.ts';

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmTrainingKernels();
});

describe.each(wasmKernelBuilds)('batch norm, ReLU and 2x2 max-pool in one kernel pair, on the %s helper kernels', (build) => {
  beforeAll(() => useKernelBuild(build));

  // Channels on and off the SIMD width of 4; odd heights and widths (a last row or column in no
  // window); more than 64 rows; a mean 100 deviations from zero; and values on a coarse grid, so
  // windows hold equal maxima and the gradient must go to the first of them, as MaxPool's does.
  const cases: [number[], number, number, boolean][] = [
    [[2, 8, 8, 8], 0, 1, false],
    [[3, 6, 6, 6], 3, 2, false],
    [[2, 7, 9, 5], 0, 1, false],
    [[4, 10, 10, 24], 50, 0.5, false],
    [[2, 6, 6, 8], 0, 1, true],
    [[1, 3, 3, 3], 0, 1, true],
  ];
  it.each(cases)('x %j, mean %d, sd %d, ties %s: output, statistics and gradients match cpu', (shape, offset, sd, ties) => {
    const channels = shape[3];
    const xv = random(shape, 60).map((v) => offset + sd * (ties ? Math.round(v * 2) / 2 : v));
    const gv = random([channels], 61), bv = random([channels], 62);
    const pooled = [shape[0], Math.floor(shape[1] / 2), Math.floor(shape[2] / 2), channels];
    const dyv = random(pooled, 63);
    const result = onBoth(() => {
      const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        if (tf.getBackend() === 'wasm') return batchNormReluPoolTraining(x as tf.Tensor4D, g, b, 1e-3);
        // What tfjs-layers' BatchNormalization, Activation and MaxPooling2D compose in training.
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        const y = tf.maxPool(tf.relu(tf.batchNorm(x, mean, variance, b, g, 1e-3)) as tf.Tensor4D, 2, 2, 'valid');
        return { y, mean, variance };
      };
      const x = tf.tensor(xv, shape), g = tf.tensor(gv, [channels]), b = tf.tensor(bv, [channels]);
      const { y, mean, variance } = f(x, g, b);
      const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => f(xi, gi, bi).y)([x, g, b], tf.tensor(dyv, pooled));
      return [y, mean, variance, ...grads];
    });
    expect(result.wasm[0].length).toBe(pooled.reduce((a, b) => a * b, 1));
    expect(relativeError(result)).toBeLessThan(TOLERANCE);
  });

  it('trains the compact model at an odd size (18 -> 9 -> 4) as cpu does', () => {
    const x = random([3, 18, 18, 3], 64), labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 3).dataSync() as Float32Array);
    const step = (backend: string) => {
      tf.setBackend(backend);
      const model = architectures.compact.build({ inputSize: 18, classCount: 3, seed: 3 });
      prepareModelForTraining(model);
      const optimizer = tf.train.sgd(0.1);
      const xs = tf.tensor(x, [3, 18, 18, 3]), ys = tf.tensor(labels, [3, 3]);
      optimizer.minimize(() => tf.mean(tfl.metrics.categoricalCrossentropy(ys, model.apply(xs, { training: true }) as tf.Tensor)) as tf.Scalar);
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      tf.dispose([xs, ys]);
      optimizer.dispose();
      model.dispose();
      return weights;
    };
    // SGD moves each weight by lr * gradient, the moving statistics by the batch's: both checked.
    expect(relativeError({ cpu: step('cpu'), wasm: step('wasm') })).toBeLessThan(1e-5);
  });
});

describe('which blocks are fused', () => {
  /** conv, batch norm, then `tail` layers, then a softmax head: one small model per case. */
  function block(tail: tfl.layers.Layer[]): tfl.LayersModel {
    const m = tfl.sequential();
    m.add(tfl.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, padding: 'same', useBias: false }));
    m.add(tfl.layers.batchNormalization());
    tail.forEach((layer) => m.add(layer));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ units: 2, activation: 'softmax' }));
    return m;
  }
  const relu = () => tfl.layers.activation({ activation: 'relu' });
  const cases: [string, () => tfl.layers.Layer[], string[], string[]][] = [
    ['ReLU then 2x2 pooling: all three in one', () => [relu(), tfl.layers.maxPooling2d({ poolSize: 2 })], ['CellsenseBatchNormReluPoolTrain'], ['MaxPool', 'MaxPoolGrad', 'Relu']],
    ['3x3 pooling: batch norm and ReLU only', () => [relu(), tfl.layers.maxPooling2d({ poolSize: 3, strides: 1 })], ['CellsenseBatchNormTrain', 'MaxPool'], ['CellsenseBatchNormReluPoolTrain']],
    ["'same' 2x2 pooling: batch norm and ReLU only", () => [relu(), tfl.layers.maxPooling2d({ poolSize: 2, padding: 'same' })], ['CellsenseBatchNormTrain', 'MaxPool'], ['CellsenseBatchNormReluPoolTrain']],
    ['pooling without ReLU between: batch norm alone', () => [tfl.layers.maxPooling2d({ poolSize: 2 })], ['CellsenseBatchNormTrain', 'MaxPool'], ['CellsenseBatchNormReluPoolTrain']],
  ];
  it.each(cases)('%s', async (_, tail, present, absent) => {
    const model = block(tail());
    prepareModelForTraining(model);
    const x = tf.randomUniform([2, 8, 8, 3]), y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2);
    const names = await trainingKernelNames(model, x, y);
    for (const name of present) expect(names).toContain(name);
    for (const name of absent) expect(names).not.toContain(name);
    tf.dispose([x, y]);
    model.dispose();
  });
});
