import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPreprocessing } from '../../../shared/index.ts';
import { activate } from '../../../trainer/training/backend.ts';
import { predictServed } from '../../../trainer/training/forward.ts';
import { fastAdam, prepareModelForTraining } from '../../../trainer/kernels/index.ts';
import { architectures } from '../../../trainer/training/architectures.ts';
import { DataParallelTrainer, shardRanges } from '../../../trainer/parallel/data-parallel.ts';
import { smoothedCrossEntropy } from '../../../trainer/parallel/shard-step.ts';

const size = 16, classes = 3;

function batch(n: number, seed: number): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => ({
    x: tf.randomNormal([n, size, size, 3], 0, 1, 'float32', seed),
    y: tf.cast(tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7 + seed) % classes), 'int32'), classes), 'float32'),
  }));
}

/** Weights (moving statistics included) after training `arch` on `batches` with `workers` replicas. */
async function train(arch: string, workers: number, batches: number[], idle?: () => boolean): Promise<{ weights: Float32Array[]; metrics: number[][] }> {
  const model = architectures[arch].build({ inputSize: size, classCount: classes, seed: 5 });
  prepareModelForTraining(model);
  const optimizer = fastAdam(0.01);
  const loss = smoothedCrossEntropy(0.1);
  model.compile({ optimizer, loss, metrics: ['accuracy'] });
  const parallel = workers > 1 ? await DataParallelTrainer.start(model, { workers, loss, labelSmoothing: 0.1, optimizer, maxBatch: 8 }) : null;
  const metrics: number[][] = [];
  try {
    for (const [i, n] of batches.entries()) {
      const { x, y } = batch(n, i + 1);
      metrics.push(parallel ? await parallel.step(x, y, idle) : ((await model.trainOnBatch(x, y)) as number[]));
      tf.dispose([x, y]);
    }
  } finally {
    await parallel?.close();
  }
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  optimizer.dispose();
  return { weights, metrics };
}

function worstDifference(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((wa, k) => {
    let scale = 1;
    for (const v of wa) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < wa.length; i++) worst = Math.max(worst, Math.abs(wa[i] - b[k][i]) / scale);
  });
  return worst;
}

/** The worst scaled difference (see worstDifference) and the share of weights more than `tolerance` apart. */
function differences(a: Float32Array[], b: Float32Array[], tolerance: number): { worst: number; over: number } {
  let over = 0, count = 0;
  a.forEach((wa, k) => {
    count += wa.length;
    for (let i = 0; i < wa.length; i++) if (Math.abs(wa[i] - b[k][i]) > tolerance) over++;
  });
  return { worst: worstDifference(a, b), over: over / count };
}

beforeAll(async () => {
  await activate('wasm');
});

afterAll(() => {
  tf.disposeVariables();
});

describe('shardRanges', () => {
  it.each([
    [8, 2, [[0, 4], [4, 4]]],
    [7, 2, [[0, 4], [4, 3]]],
    [5, 3, [[0, 2], [2, 2], [4, 1]]],
    [1, 2, [[0, 1], [1, 0]]],
  ])('%i rows over %i replicas', (rows, replicas, expected) => {
    expect(shardRanges(rows, replicas).map((r) => [r.start, r.count])).toEqual(expected);
  });
});

describe('data-parallel training matches one replica', () => {
  // An even batch, an uneven one, and a batch of 1 that the main thread trains alone.
  const batches = [8, 7, 1];
  it.each(['compact', 'tutorial'])('%s: weights and batch norm statistics after three steps, 1 vs 2 workers', async (arch) => {
    const one = await train(arch, 1, batches);
    const two = await train(arch, 2, batches);
    // Float summation order differs, and Adam turns a gradient that is 0 up to rounding into a full
    // step of either sign: with Winograd F(4x4, 3x3), whose transforms round more than F(2x2)'s,
    // 37 of tutorial's 9,216 second-layer taps moved 1e-4 to 5.4e-3 apart (lr 0.01); every other
    // weight agrees within 1e-4. A wrong gradient moves nearly every weight by ~lr; without
    // synchronised batch norm compact differs by ~0.4.
    const { worst, over } = differences(one.weights, two.weights, 1e-4);
    expect(over).toBeLessThan(0.005);
    expect(worst).toBeLessThan(0.02);
    two.metrics.forEach(([loss, acc], i) => {
      expect(loss).toBeCloseTo(one.metrics[i][0], 4);
      expect(acc).toBeCloseTo(one.metrics[i][1], 6);
    });
    if (arch === 'compact') {
      // Deterministic for a worker count: the replicas' sums always add up in replica order.
      const again = await train(arch, 2, batches);
      expect(worstDifference(two.weights, again.weights)).toBe(0);
      // Work done in the waits (the next batch, in training) changes nothing.
      let units = 0;
      const busy = await train(arch, 2, batches, () => ++units < 100_000);
      expect(worstDifference(two.weights, busy.weights)).toBe(0);
    }
  });
});

describe('validation over the replicas', () => {
  const params = defaultPreprocessing(size);
  const examples = (n: number) => Array.from({ length: n }, (_, i) => ({
    pixels: Uint8Array.from({ length: size * size * 3 }, (_, k) => (i * 31 + k * 7) % 256),
    label: i % classes,
  }));

  /** A compact model training on 2 replicas, for `use`; everything freed afterwards. */
  async function withTwoReplicas(use: (parallel: DataParallelTrainer, model: tfl.LayersModel) => Promise<void>): Promise<void> {
    const model = architectures.compact.build({ inputSize: size, classCount: classes, seed: 5 });
    prepareModelForTraining(model);
    const optimizer = fastAdam(0.01), loss = smoothedCrossEntropy(0);
    model.compile({ optimizer, loss });
    const parallel = await DataParallelTrainer.start(model, { workers: 2, loss, labelSmoothing: 0, optimizer, maxBatch: 8 });
    try {
      await use(parallel, model);
    } finally {
      await parallel.close();
      model.dispose();
      optimizer.dispose();
    }
  }

  // 150: three batches of 64, two for the main thread and one (22 images) for the worker; 40: the
  // main thread's alone; 0: nothing to score.
  it.each([150, 40, 0])('%i images: bitwise the main thread\'s predictServed, with the weights of the last step', async (n) => {
    await withTwoReplicas(async (parallel, model) => {
      // Trained first, so the worker must take the weights of the last step, not those it started with.
      const { x, y } = batch(8, 3);
      await parallel.step(x, y);
      tf.dispose([x, y]);
      const set = examples(n);
      const expected = await predictServed(model, set, params, classes);
      const got = await parallel.predict(set, params, classes);
      expect(got.length).toBe(n * classes);
      expect(got).toEqual(expected);
    });
  });

  it('a worker gone between steps: validation and the next step fail at once, naming it', async () => {
    await withTwoReplicas(async (parallel) => {
      // As a crash would: the main thread must not wait for it (a step would block in its first exchange).
      await (parallel as unknown as { workers: Worker[] }).workers[0].terminate();
      await expect(parallel.predict(examples(150), params, classes)).rejects.toThrow('training worker 1 exited (code 1)');
      const { x, y } = batch(8, 4);
      await expect(parallel.step(x, y)).rejects.toThrow('training worker 1 exited (code 1)');
      tf.dispose([x, y]);
    });
  });
});
