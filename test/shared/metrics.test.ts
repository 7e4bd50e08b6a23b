import { describe, expect, it } from 'vitest';
import { argMax, confusionMatrix, evaluationFromConfusion, sha256Hex } from '../../shared/index.ts';

describe('metrics', () => {
  it('builds the confusion matrix with rows as truth', () => {
    expect(confusionMatrix([0, 1, 1, 2], [0, 1, 0, 2], 3)).toEqual([[1, 0, 0], [1, 1, 0], [0, 0, 1]]);
  });

  it('rejects mismatched lengths', () => {
    expect(() => confusionMatrix([0], [0, 1], 2)).toThrow(RangeError);
  });

  it('computes accuracy, per-class figures and macro-F1', () => {
    const ev = evaluationFromConfusion(['a', 'b'], [[3, 1], [2, 4]]);
    expect(ev.accuracy).toBeCloseTo(0.7);
    expect(ev.perClass.a).toEqual({ precision: 0.6, recall: 0.75, f1: expect.closeTo(2 * 0.6 * 0.75 / 1.35, 9), support: 4 });
    expect(ev.perClass.b.precision).toBeCloseTo(0.8);
    expect(ev.macroF1).toBeCloseTo((ev.perClass.a.f1 + ev.perClass.b.f1) / 2);
  });

  it('averages F1 over the classes with support only', () => {
    // One confirmed label, answered right, among four classes: nothing was wrong.
    expect(evaluationFromConfusion(['a', 'b', 'c', 'd'], [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]).macroF1).toBe(1);
    // A class predicted but never true lowers its row's precision, and is not averaged itself.
    const ev = evaluationFromConfusion(['a', 'b'], [[1, 1], [0, 0]]);
    expect(ev.perClass.a.f1).toBeCloseTo(2 / 3, 12);
    expect(ev.macroF1).toBeCloseTo(2 / 3, 12);
    expect(evaluationFromConfusion(['a', 'b'], [[0, 0], [0, 0]]).macroF1).toBe(0);
  });

  it('gives 0, not NaN, for a class never predicted or absent', () => {
    const ev = evaluationFromConfusion(['a', 'b'], [[2, 0], [0, 0]]);
    expect(ev.perClass.b).toEqual({ precision: 0, recall: 0, f1: 0, support: 0 });
    expect(JSON.stringify(ev)).not.toContain('null');
  });

  it('argMax returns the first largest index', () => {
    expect(argMax([0.1, 0.7, 0.7])).toBe(1);
  });

  it('hashes with sha256', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
