import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPreprocessing } from '../../../shared/index.ts';
import type { Example } from '../../../trainer/data/batches.ts';
import { activate } from '../../../trainer/training/backend.ts';
import { architectures } from '../../../trainer/training/architectures.ts';
import { trainLoop, type LoopOptions } from '../../../trainer/training/train-loop.ts';

const size = 16, epochs = 4;
const params = defaultPreprocessing(size);

/** Dark cells are class 0 and bright ones class 1; `flipped` swaps the labels. */
function examples(count: number, flipped: boolean): Example[] {
  return Array.from({ length: count }, (_, i) => {
    const bright = i % 2;
    const pixels = new Uint8Array(size * size * 3).map((_, p) => (bright ? 190 : 60) + ((p * 31 + i * 17) % 40));
    return { pixels, label: flipped ? 1 - bright : bright };
  });
}

/** Trains on the plain task and validates on the flipped one, so validation loss rises as the model learns. */
async function run(keepEpoch: LoopOptions['keepEpoch']) {
  const model = architectures.compact.build({ inputSize: size, classCount: 2, seed: 3 });
  const train = examples(32, false);
  const snapshots: Float32Array[][] = [];
  const result = await trainLoop(model, train, examples(8, true), params, 2, {
    epochs, batchSize: 16, seed: 1, patience: epochs, keepEpoch, learningRate: 0.01, schedule: 'constant', labelSmoothing: 0,
    groups: train.map((_, i) => i), perClass: 0, augment: { dihedral: false, brightness: 0, color: 0, zoom: 0, rotate: false, stain: 0 }, workers: 1, runKey: 'test',
    onEpochEnd: () => snapshots.push(model.getWeights().map((w) => w.dataSync() as Float32Array)),
  });
  const kept = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return { result, snapshots, kept };
}

beforeAll(async () => {
  await activate('wasm');
});

afterAll(() => {
  tf.disposeVariables();
});

describe('trainLoop keeps the epoch asked for', () => {
  it.each([
    ['best', (valLosses: number[]) => 1 + valLosses.indexOf(Math.min(...valLosses))],
    ['last', () => epochs],
  ] as const)('%s', async (keepEpoch, expectedEpoch) => {
    const { result, snapshots, kept } = await run(keepEpoch);
    const valLosses = result.history.map((r) => r.valLoss);
    expect(result.history).toHaveLength(epochs);
    // The task is built so the two rules disagree; otherwise this test could not tell them apart.
    expect(valLosses.indexOf(Math.min(...valLosses))).toBeLessThan(epochs - 1);
    const epoch = expectedEpoch(valLosses);
    expect(result.bestEpoch).toBe(epoch);
    expect(kept).toEqual(snapshots[epoch - 1]);
  }, 60_000);
});
