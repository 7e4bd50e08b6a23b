import { describe, expect, it } from 'vitest';
import { photoAccuracy } from '../../../trainer/evaluation/score.ts';

describe('photoAccuracy', () => {
  it.each([
    ['every image right', [0, 1, 1], [0, 1, 1], [1, 2, 2], 1],
    ['every image wrong', [0, 1], [1, 0], [1, 2], 0],
    // Per image 3 of 4 are right; per photo, photo 7 is right and photo 8 is wrong.
    ['a photo of three copies weighs as much as a photo of one', [0, 0, 0, 1], [0, 0, 0, 0], [7, 7, 7, 8], 0.5],
    ['a photo half right counts half', [0, 0, 1, 1], [0, 1, 1, 1], [3, 3, 4, 4], 0.75],
    ['groups need not be in order', [2, 0, 2, 0], [2, 1, 2, 0], [5, 6, 5, 6], 0.75],
    ['no images', [], [], [], 0],
  ])('%s', (_, labels, predicted, groups, expected) => {
    expect(photoAccuracy(labels, predicted, groups)).toBeCloseTo(expected, 12);
  });
});
