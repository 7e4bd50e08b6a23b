import { describe, expect, it } from 'vitest';
import { quantizationTooCostly } from '../../../trainer/export/quantize.ts';

describe('quantizationTooCostly', () => {
  it.each([
    ['no drop', 0.8, 0.8, 48, false],
    ['a gain', 0.8, 0.82, 48, false],
    ['one image of 48 (2.1 points)', 28 / 48, 27 / 48, 48, false],
    ['two images of 48 (4.2 points)', 28 / 48, 26 / 48, 48, true],
    ['21 images of 2,198 (under 1 point)', 1758 / 2198, 1737 / 2198, 2198, false],
    ['33 images of 2,198 (1.5 points)', 1758 / 2198, 1725 / 2198, 2198, true],
    ['one image of 50 exactly (2 points)', 0.6, 0.58, 50, false],
  ])('%s: %s', (_, float, quantized, images, expected) => {
    expect(quantizationTooCostly(float, quantized, images)).toBe(expected);
  });
});
