import { describe, expect, it } from 'vitest';
import { selfTestDifference, selfTestInputs, selfTestSchema } from '../../../shared/index.ts';

describe('selfTestInputs', () => {
  it('is the same batch for the same seed, another for another seed, in [-1, 1)', () => {
    const a = selfTestInputs(7, 2, 4, 4, 3);
    expect(a).toHaveLength(2 * 4 * 4 * 3);
    expect(selfTestInputs(7, 2, 4, 4, 3)).toEqual(a);
    expect(selfTestInputs(8, 2, 4, 4, 3)).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...a)).toBeLessThan(1);
    // Spread over the range, not stuck near a value.
    expect(Math.max(...a) - Math.min(...a)).toBeGreaterThan(1.5);
  });

  it('is pinned: a runtime that drew other numbers would fail every recorded self-test', () => {
    // mulberry32 from seed 7, mapped to [-1, 1): the numbers the trainer used for every version so far.
    Array.from(selfTestInputs(7, 1, 1, 1, 3)).forEach((v, i) => expect(v).toBeCloseTo([-0.9765905, -0.8760835, 0.9538153][i], 6));
  });
});

describe('selfTestDifference', () => {
  it.each([
    ['equal', [0.5, 0.5], [0.5, 0.5], 0],
    ['one value off', [0.9, 0.1], [0.89, 0.11], 0.01],
    ['lengths differ', [0.9, 0.1], [0.9], Infinity],
    ['a NaN', [0.9, 0.1], [NaN, 0.1], Infinity],
    ['an infinity', [0.9, 0.1], [0.9, Infinity], Infinity],
  ])('%s', (_, recorded, computed, expected) => {
    expect(selfTestDifference(recorded, computed)).toBeCloseTo(expected, 9);
  });
});

describe('selfTestSchema', () => {
  it.each([
    ['a negative seed', { seed: -1, count: 1, outputs: [1] }],
    ['no images', { seed: 1, count: 0, outputs: [1] }],
    ['no outputs', { seed: 1, count: 1, outputs: [] }],
  ])('refuses %s', (_, value) => {
    expect(selfTestSchema.safeParse(value).success).toBe(false);
  });
});
