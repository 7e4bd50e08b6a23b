import { describe, expect, it } from 'vitest';
import { applyTemperature, dihedralVariants, finalProbabilities, needsReview, plainInference, variantCount } from '../../../shared/index.ts';

const tta = { tta: 'dihedral8', temperature: 1, reviewThreshold: 0 } as const;

describe('applyTemperature', () => {
  it.each([
    [[0.9, 0.1], 1, [0.9, 0.1]],
    [[0.9, 0.1], 2, [0.75, 0.25]],
    [[0.5, 0.5], 3, [0.5, 0.5]],
  ])('%j at T=%d gives %j', (p, t, want) => {
    applyTemperature(p, t).forEach((v, i) => expect(v).toBeCloseTo(want[i], 10));
  });

  it('keeps the ranking and sums to 1; T<1 sharpens', () => {
    const p = [0.2, 0.5, 0.3];
    const sharp = applyTemperature(p, 0.5);
    expect(sharp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(sharp[1]).toBeGreaterThan(0.5);
    expect(sharp.indexOf(Math.max(...sharp))).toBe(1);
  });

  it('survives a zero probability', () => {
    expect(applyTemperature([1, 0], 2).every(Number.isFinite)).toBe(true);
  });
});

describe('needsReview', () => {
  it.each([[0.5, 0.6, true], [0.6, 0.6, false], [0.99, 0.6, false], [0.1, 0, false], [1, 1, true], [0.999, 1, true]])('confidence %d, threshold %d: %s', (c, t, want) => {
    expect(needsReview(c, { ...plainInference, reviewThreshold: t })).toBe(want);
  });
});

describe('dihedralVariants', () => {
  // 3x3, one channel: values 0..8 in row-major order.
  const input = Float32Array.from({ length: 9 }, (_, i) => i);
  const out = dihedralVariants(input, 3, 1, tta);

  it('returns the input itself without TTA', () => {
    expect(dihedralVariants(input, 3, 1, plainInference)).toBe(input);
    expect(variantCount(plainInference)).toBe(1);
    expect(variantCount(tta)).toBe(8);
  });

  it('makes 8 distinct transforms of a square, the first being the identity', () => {
    const variants = Array.from({ length: 8 }, (_, k) => Array.from(out.subarray(k * 9, (k + 1) * 9)).join());
    expect(variants[0]).toBe('0,1,2,3,4,5,6,7,8');
    expect(new Set(variants).size).toBe(8);
    // Every variant is a permutation that keeps the centre and maps corners to corners.
    for (const v of variants) {
      const values = v.split(',').map(Number);
      expect(values[4]).toBe(4);
      expect([values[0], values[2], values[6], values[8]].sort()).toEqual([0, 2, 6, 8]);
    }
  });

  it('keeps channels of a pixel together', () => {
    const rgb = Float32Array.from({ length: 12 }, (_, i) => i);
    const v = dihedralVariants(rgb, 2, 3, tta);
    for (let p = 0; p < v.length; p += 3) expect([v[p + 1] - v[p], v[p + 2] - v[p]]).toEqual([1, 2]);
  });

  it('refuses an input of the wrong size', () => {
    expect(() => dihedralVariants(new Float32Array(10), 3, 1, tta)).toThrow(/expected 9 values/);
  });
});

describe('finalProbabilities', () => {
  it('averages the variants, then applies the temperature', () => {
    const rows = [...Array(8)].flatMap((_, k) => (k < 4 ? [1, 0] : [0.5, 0.5]));
    expect(finalProbabilities(rows, 2, tta)).toEqual(applyTemperature([0.75, 0.25], 1));
    expect(finalProbabilities([0.9, 0.1], 2, { ...plainInference, temperature: 2 })[0]).toBeCloseTo(0.75, 10);
  });

  it('refuses a row count that does not match the policy', () => {
    expect(() => finalProbabilities([0.9, 0.1], 2, tta)).toThrow(/expected 16 values/);
  });
});
