import { describe, expect, it } from 'vitest';
import { accuracyCoverage, calibrate, chooseThreshold, fitTemperature, holdOnServedModel, underPolicy, negativeLogLikelihood, reliability } from '../../../trainer/evaluation/calibration.ts';
import { Rng } from '../../../trainer/data/rng.ts';

/** An over-confident 3-class model: right 80% of the time but always ~99% sure. */
function overconfident(n: number, seed = 1) {
  const rng = new Rng(seed);
  const probabilities: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = rng.int(3);
    const predicted = rng.next() < 0.8 ? label : (label + 1 + rng.int(2)) % 3;
    const top = 0.97 + 0.029 * rng.next();
    const row = [0, 1, 2].map((c) => (c === predicted ? top : (1 - top) / 2));
    probabilities.push(...row);
    labels.push(label);
  }
  return { probabilities, labels, classCount: 3 };
}

describe('temperature scaling', () => {
  const scored = overconfident(2000);

  it('softens an over-confident model and lowers NLL and ECE', () => {
    const t = fitTemperature(scored);
    expect(t).toBeGreaterThan(1.5);
    expect(negativeLogLikelihood(scored, t)).toBeLessThan(negativeLogLikelihood(scored, 1));
    expect(reliability(scored, t).ece).toBeLessThan(reliability(scored, 1).ece / 3);
  });

  it('measures the ECE of the raw model as the gap between confidence and accuracy', () => {
    const { ece, bins } = reliability(scored, 1, 15);
    expect(ece).toBeGreaterThan(0.15);
    expect(ece).toBeLessThan(0.22);
    expect(bins).toHaveLength(15);
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(2000);
  });
});

describe('accuracy-coverage and the review threshold', () => {
  // Confidence 0.95 down to 0.5; the five most confident right, then mostly wrong.
  const probabilities = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6, 0.55, 0.5].flatMap((p) => [p, 1 - p]);
  const labels = [0, 0, 0, 0, 0, 1, 1, 1, 0, 1];
  const scored = { probabilities, labels, classCount: 2 };

  it('gives one point per distinct confidence, coverage rising as accuracy falls', () => {
    const curve = accuracyCoverage(scored);
    expect(curve.map((p) => p.coverage)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(curve[4]).toEqual({ threshold: 0.75, coverage: 0.5, accuracy: 1 });
    expect(curve[9].accuracy).toBeCloseTo(0.6, 10); // 0.55 is right too; 0.5/0.5 ties go to class 0
  });

  it.each([
    [0.97, 0.4, 0.75, 0.5, true],
    [0.97, 0.9, 0.75, 0.5, false],
    [0.5, 0.9, 0, 1, true],
  ])('target %d, min coverage %d: threshold %d, coverage %d, met %s', (targetAccuracy, minCoverage, threshold, coverage, met) => {
    const chosen = chooseThreshold(accuracyCoverage(scored), { targetAccuracy, minCoverage });
    expect([chosen.threshold, chosen.coverage, chosen.met]).toEqual([threshold, coverage, met]);
  });

  it('flags every answer when no threshold reaches the target accuracy', () => {
    // The most confident answer is already wrong: no share of the cells is 97% right.
    const wrongFirst = { probabilities: [0.9, 0.1, 0.8, 0.2, 0.7, 0.3], labels: [1, 0, 0], classCount: 2 };
    expect(chooseThreshold(accuracyCoverage(wrongFirst), { targetAccuracy: 0.97, minCoverage: 0.9 })).toEqual({ threshold: 1, coverage: 0, accuracy: 0, met: false });
  });

  it('calibrate reports before/after ECE and a threshold the review rule honours', () => {
    const c = calibrate(overconfident(500, 3), 'none', { targetAccuracy: 0.97, minCoverage: 0.9 });
    expect(c.eceAfter).toBeLessThan(c.eceBefore);
    expect(c.binsAfter).toHaveLength(15);
    expect(c.met).toBe(false); // an 80% model cannot keep 90% of cells at 97%
  });
});

describe('holdOnServedModel: the out-of-fold policy checked on the served model', () => {
  // Two classes; each cell as [probability of class 0, right?], the truth class 0 when right.
  const scored = (cells: [number, boolean][]) => ({
    probabilities: cells.flatMap(([p]) => [p, 1 - p]),
    labels: cells.map(([, right]) => (right ? 0 : 1)),
    classCount: 2,
  });
  // Out of fold: 100 cells, confidences 0.99 down to 0.60, the lowest 20 half wrong; a
  // temperature of 1 and the threshold at the 80th cell (all 80 above it right).
  const outOfFold = scored(Array.from({ length: 100 }, (_, i) => [0.99 - i * 0.0039, i < 80 || i % 2 === 0]));
  const curve = accuracyCoverage(outOfFold, 1);
  const oof = {
    ...calibrate(outOfFold, 'none', { targetAccuracy: 0.9, minCoverage: 0.5 }),
    temperature: 1, curve, threshold: curve[79].threshold, coverage: curve[79].coverage, accuracyAboveThreshold: curve[79].accuracy, met: true,
  };

  it('keeps the threshold when the served model reaches the target above it', () => {
    const held = holdOnServedModel(oof, scored([[0.95, true], [0.9, true], [0.85, true], [0.5, false]]));
    expect(held.threshold).toBe(oof.threshold);
    expect(held.coverage).toBe(0.8);
    expect(held.servedValidation).toEqual({ images: 4, coverage: 0.75, accuracyAboveThreshold: 1 });
    expect(held.met).toBe(true);
  });

  it('raises it to a point of the out-of-fold curve when the served model needs more', () => {
    // Served: two confident mistakes at 0.8, so the cells from 0.8 up are only 82% right.
    const served = scored([[0.97, true], [0.95, true], [0.93, true], [0.91, true], [0.9, true], [0.88, true], [0.86, true], [0.84, true], [0.82, true], [0.8, false], [0.8, false], [0.7, true]]);
    const held = holdOnServedModel(oof, served);
    expect(held.threshold).toBeGreaterThan(0.8);
    expect(held.threshold).toBeLessThan(0.83);
    expect(held.curve.some((p) => p.threshold === held.threshold && p.coverage === held.coverage && p.accuracy === held.accuracyAboveThreshold)).toBe(true);
    expect(held.coverage).toBeLessThan(oof.coverage);
    // The lowest out-of-fold point at or above 0.82 is 0.8223, so the 0.82 cell is flagged too.
    expect(held.servedValidation).toEqual({ images: 12, coverage: 8 / 12, accuracyAboveThreshold: 1, raisedFrom: oof.threshold });
  });

  it('flags everything when no threshold gets the served model to the target', () => {
    const held = holdOnServedModel(oof, scored([[0.99, false], [0.9, true], [0.8, false]]));
    expect(held).toMatchObject({ threshold: 1, coverage: 0, met: false });
    expect(held.servedValidation).toMatchObject({ coverage: 0, accuracyAboveThreshold: null, raisedFrom: oof.threshold });
  });
});

describe('underPolicy', () => {
  it.each([
    [1, 0.8, { threshold: 0.8, coverage: 0.5, accuracyAbove: 1, errorsFlagged: 1 }],
    // A temperature of 4 flattens 0.9 to about 0.64, under the threshold: everything flagged.
    [4, 0.8, { threshold: 0.8, coverage: 0, accuracyAbove: null, errorsFlagged: 1 }],
    [1, 0, { threshold: 0, coverage: 1, accuracyAbove: 0.5, errorsFlagged: 0 }],
  ])('temperature %d, threshold %d', (temperature, threshold, expected) => {
    expect(underPolicy({ probabilities: [0.9, 0.1, 0.6, 0.4], labels: [0, 1], classCount: 2 }, { temperature, threshold })).toEqual(expected);
  });
});
