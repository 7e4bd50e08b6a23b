import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPreprocessing, pixelTestDifference, pixelTestImage, pixelTestSchema, preparePixels, stainCentroid } from '../../../shared/index.ts';

// The first 16 hex digits of the sha256 of the seed-11 photo's bytes: the photo every pixel test so far was recorded on.
const PINNED = 'a3aa853716ed6971';

describe('pixelTestImage', () => {
  it('is the same photo for the same seed, another for another seed', () => {
    const a = pixelTestImage(11, 320, 240);
    expect([a.width, a.height, a.channels, a.data.length]).toEqual([320, 240, 4, 320 * 240 * 4]);
    expect(pixelTestImage(11, 320, 240).data).toEqual(a.data);
    expect(pixelTestImage(12, 320, 240).data).not.toEqual(a.data);
  });

  it('is pinned: a runtime that drew another photo would fail every recorded pixel test', () => {
    const digest = createHash('sha256').update(pixelTestImage(11, 320, 240).data).digest('hex');
    expect(digest.slice(0, 16)).toBe(PINNED);
  });

  it('has a stained cell off its centre, so the stain crop and the full frame see different pixels', () => {
    const image = pixelTestImage(11, 320, 240);
    const centre = stainCentroid(image)!;
    expect(Math.hypot(centre.x - 160, centre.y - 120)).toBeGreaterThan(10);
    const stain = preparePixels(image, defaultPreprocessing(64, 'stain'));
    const full = preparePixels(image, defaultPreprocessing(64, 'full'));
    expect(Buffer.from(stain).equals(Buffer.from(full))).toBe(false);
  });
});

describe('pixelTestDifference', () => {
  const classes = ['A', 'B'];
  it.each([
    ['equal', { A: 0.7, B: 0.3 }, { A: 0.7, B: 0.3 }, 0],
    ['one value off', { A: 0.7, B: 0.3 }, { A: 0.69, B: 0.31 }, 0.01],
    ['classes swapped', { A: 0.7, B: 0.3 }, { B: 0.7, A: 0.3 }, 0.4],
    ['a class missing', { A: 0.7 }, { A: 0.7, B: 0.3 }, Infinity],
    ['another class', { A: 0.7, C: 0.3 }, { A: 0.7, B: 0.3 }, Infinity],
    ['a NaN', { A: 0.7, B: 0.3 }, { A: NaN, B: 0.3 }, Infinity],
  ])('%s', (_, recorded, computed, expected) => {
    expect(pixelTestDifference(recorded, computed as Record<string, number>, classes)).toBeCloseTo(expected, 9);
  });
});

describe('pixelTestSchema', () => {
  it.each([
    ['a negative seed', { seed: -1, width: 2, height: 2, probabilities: { A: 1 } }],
    ['no width', { seed: 1, width: 0, height: 2, probabilities: { A: 1 } }],
    ['probabilities as a list', { seed: 1, width: 2, height: 2, probabilities: [1] }],
  ])('refuses %s', (_, value) => {
    expect(pixelTestSchema.safeParse(value).success).toBe(false);
  });
});
