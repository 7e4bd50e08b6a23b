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
  it.each<[string, AugmentOptions | null]>([
    ['augmented', defaultAugment],
    ['no augmentation options', noAugment],
    ['no augmentation at all', null],
  ])('%s: image by image, then the same batch and the same random draws as makeBatch', (_, options) => {
    const augment = (rng: Rng) => (options ? { options, maps: dihedralMaps(size), rng } : undefined);
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
});
