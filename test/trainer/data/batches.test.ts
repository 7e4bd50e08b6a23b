import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultPreprocessing } from '../../../shared/index.ts';
import { defaultAugment, dihedralMaps, noAugment, type AugmentOptions } from '../../../trainer/data/augment.ts';
import { activate } from '../../../trainer/training/backend.ts';
import { BatchBuilder, makeBatch } from '../../../trainer/data/batches.ts';
import { Rng } from '../../../trainer/data/rng.ts';

const size = 8, classes = 3;
const params = defaultPreprocessing(size);
const examples = Array.from({ length: 5 }, (_, i) => ({
  pixels: Uint8Array.from({ length: size * size * 3 }, (_, k) => (i * 53 + k * 11) % 256),
  label: i % classes,
}));

beforeAll(async () => {
  await activate('cpu');
});

describe('BatchBuilder', () => {
  it.each<[string, AugmentOptions | null, number]>([
    ['augmented', defaultAugment, 0],
    ['augmented and mixed up', defaultAugment, 0.4],
    ['no augmentation options', noAugment, 0],
    ['no augmentation at all', null, 0],
  ])('%s: image by image, then the same batch and the same random draws as makeBatch', (_, options, mixup) => {
    const augment = (rng: Rng) => (options ? { options: { ...options, mixup }, maps: dihedralMaps(size), rng } : undefined);
    const rngOne = new Rng(7), rngSteps = new Rng(7);
    const whole = makeBatch(examples, params, classes, augment(rngOne));
    const builder = new BatchBuilder(examples, params, classes, augment(rngSteps));
    const steps: boolean[] = [];
    for (let i = 0; i < examples.length + 2; i++) steps.push(builder.step());
    expect(steps).toEqual([true, true, true, true, true, false, false]);
    const built = builder.finish();
    expect(built.x.shape).toEqual([5, size, size, 3]);
    expect(built.x.dataSync()).toEqual(whole.x.dataSync());
    expect(built.y.dataSync()).toEqual(whole.y.dataSync());
    // Both used the generator alike, so what follows (the next batch) is the same too.
    expect(rngSteps.next()).toBe(rngOne.next());
    tf.dispose([whole.x, whole.y, built.x, built.y]);
  });

  it('finish prepares what the steps left', () => {
    const builder = new BatchBuilder(examples, params, classes);
    builder.step();
    builder.step();
    const built = builder.finish();
    const whole = makeBatch(examples, params, classes);
    expect(built.x.dataSync()).toEqual(whole.x.dataSync());
    tf.dispose([whole.x, whole.y, built.x, built.y]);
  });

  it('mixup blends each image and its label with one partner by the same share', () => {
    // One class per image, so each label row shows the share and the partner.
    const distinct = examples.map((ex, i) => ({ ...ex, label: i }));
    const n = distinct.length;
    const plain = makeBatch(distinct, params, n);
    const mixed = makeBatch(distinct, params, n, { options: { ...noAugment, mixup: 1 }, maps: dihedralMaps(size), rng: new Rng(3) });
    const x0 = plain.x.dataSync(), x = mixed.x.dataSync(), y = mixed.y.dataSync();
    const p = size * size * 3;
    let blended = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(y.subarray(i * n, (i + 1) * n));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      const others = row.map((v, c) => [v, c]).filter(([v, c]) => c !== i && v > 0);
      expect(others.length).toBeLessThanOrEqual(1);
      const [share, j] = others[0] ?? [0, i];
      if (share > 0.05 && share < 0.95) blended++;
      for (const q of [0, 17, p - 1]) expect(x[i * p + q]).toBeCloseTo((1 - share) * x0[i * p + q] + share * x0[j * p + q], 4);
    }
    expect(blended).toBeGreaterThan(0);
    tf.dispose([plain.x, plain.y, mixed.x, mixed.y]);
  });
});
