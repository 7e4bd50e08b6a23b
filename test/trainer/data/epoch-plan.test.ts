import { describe, expect, it } from 'vitest';
import { cosineLearningRate, epochOrder } from '../../../trainer/data/epoch-plan.ts';
import { Rng } from '../../../trainer/data/rng.ts';
import { groupedFolds } from '../../../trainer/data/split.ts';

// Class 0: groups 0 (10 images) and 1 (2 images); class 1: group 2 (6 images).
const labels = [...Array(12).fill(0), ...Array(6).fill(1)];
const groups = [...Array(10).fill(0), 1, 1, ...Array(6).fill(2)];

describe('epochOrder', () => {
  it('without a per-class draw, visits every image once', () => {
    expect(epochOrder(labels, groups, { perClass: 0 }, new Rng(1)).sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
  });

  it('draws perClass images of each class, evenly over its source groups', () => {
    const order = epochOrder(labels, groups, { perClass: 8 }, new Rng(2));
    expect(order).toHaveLength(16);
    const fromGroup = (g: number) => order.filter((i) => groups[i] === g).length;
    expect([fromGroup(0), fromGroup(1), fromGroup(2)]).toEqual([4, 4, 8]);
    // The small group repeats its 2 images; the big one gives 4 distinct.
    expect(new Set(order.filter((i) => groups[i] === 0)).size).toBe(4);
  });

  it('is the same for the same seed and differs across seeds', () => {
    const a = epochOrder(labels, groups, { perClass: 5 }, new Rng(3));
    expect(epochOrder(labels, groups, { perClass: 5 }, new Rng(3))).toEqual(a);
    expect(epochOrder(labels, groups, { perClass: 5 }, new Rng(4))).not.toEqual(a);
  });
});

describe('cosineLearningRate', () => {
  it('warms up, peaks, and decays to 2% of the base', () => {
    const rates = Array.from({ length: 10 }, (_, e) => cosineLearningRate(1, e + 1, 10));
    expect(rates[0]).toBeCloseTo(0.5, 10);
    expect(rates[1]).toBeCloseTo(1, 10);
    expect(rates[9]).toBeCloseTo(0.02, 10);
    for (let e = 2; e < 10; e++) expect(rates[e]).toBeLessThan(rates[e - 1]);
  });
});

describe('groupedFolds', () => {
  const manyLabels = Array.from({ length: 200 }, (_, i) => i % 2);
  const manyGroups = Array.from({ length: 200 }, (_, i) => Math.floor(i / 10) * 2 + (i % 2));

  it('never splits a group, and balances every class over the folds', () => {
    const fold = groupedFolds(manyLabels, manyGroups, 5, 7);
    const foldOfGroup = new Map<number, number>();
    fold.forEach((f, i) => {
      expect(foldOfGroup.get(manyGroups[i]) ?? f).toBe(f);
      foldOfGroup.set(manyGroups[i], f);
    });
    for (let f = 0; f < 5; f++) for (const c of [0, 1]) expect(fold.filter((x, i) => x === f && manyLabels[i] === c)).toHaveLength(20);
  });

  it('is deterministic for a seed', () => {
    expect(groupedFolds(manyLabels, manyGroups, 4, 3)).toEqual(groupedFolds(manyLabels, manyGroups, 4, 3));
  });
});
