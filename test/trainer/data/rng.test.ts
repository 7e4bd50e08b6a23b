import { describe, expect, it } from 'vitest';
import { Rng } from '../../../trainer/data/rng.ts';

function moments(draw: () => number, n = 40000): { mean: number; variance: number; min: number; max: number } {
  let sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = draw();
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / n;
  return { mean, variance: sq / n - mean * mean, min, max };
}

describe('Rng', () => {
  it('draws standard normals', () => {
    const rng = new Rng(1);
    const m = moments(() => rng.normal());
    expect(m.mean).toBeCloseTo(0, 1);
    expect(m.variance).toBeCloseTo(1, 1);
  });

  it.each([0.5, 2, 7.5])('draws Gamma(%s) with its mean and variance', (shape) => {
    const rng = new Rng(2);
    const m = moments(() => rng.gamma(shape));
    expect(Math.abs(m.mean - shape) / shape).toBeLessThan(0.03);
    expect(Math.abs(m.variance - shape) / shape).toBeLessThan(0.08);
    expect(m.min).toBeGreaterThanOrEqual(0);
  });

  it.each([
    [0.2, 0.2],
    [0.4, 0.4],
    [2, 5],
  ])('draws Beta(%s, %s) in [0, 1] with its mean and variance', (a, b) => {
    const rng = new Rng(3);
    const m = moments(() => rng.beta(a, b));
    const mean = a / (a + b), variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expect(Math.abs(m.mean - mean)).toBeLessThan(0.01);
    expect(Math.abs(m.variance - variance)).toBeLessThan(0.01);
    expect(m.min).toBeGreaterThanOrEqual(0);
    expect(m.max).toBeLessThanOrEqual(1);
  });

  it('repeats its draws for a seed', () => {
    const a = new Rng(9), b = new Rng(9);
    expect(Array.from({ length: 5 }, () => a.beta(0.3, 0.3))).toEqual(Array.from({ length: 5 }, () => b.beta(0.3, 0.3)));
  });
});
