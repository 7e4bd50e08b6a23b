import { calibrate, type Scored } from '../../../trainer/evaluation/calibration.ts';
import { Rng } from '../../../trainer/data/rng.ts';
import type { CalibrationReport, CrossValidationReport, Spread } from '../../../trainer/report/types.ts';

export type DoubtOutcome = 'met' | 'unmet';

const softmax = (logits: number[]) => {
  const top = Math.max(...logits);
  const exp = logits.map((z) => Math.exp(z - top));
  const sum = exp.reduce((s, v) => s + v, 0);
  return exp.map((v) => v / sum);
};

/**
 * Probabilities of an overconfident model whose predictions follow `confusion` exactly. Each
 * cell's logits are drawn by rejection sampling so that a cell is right about as often as its
 * unsharpened top probability says; the logits are then multiplied (×2, or ×3 with `met`), the
 * overconfidence temperature scaling should undo. With `met`, wrong answers also lean further to
 * low confidence, so a threshold can set most of them aside.
 */
export function scoredFromConfusion(confusion: number[][], outcome: DoubtOutcome, seed = 7): Scored {
  const rng = new Rng(seed);
  const k = confusion.length;
  const probabilities: number[] = [];
  const labels: number[] = [];
  confusion.forEach((row, truth) =>
    row.forEach((n, predicted) => {
      for (let i = 0; i < n; i++) {
        for (;;) {
          // Others below 0 and the winner above it, so the prediction is `predicted`.
          const logits = Array.from({ length: k }, (_, c) => (c === predicted ? rng.uniform(0, 5) : -rng.uniform(0, 1)));
          const q = softmax(logits)[predicted];
          const accept = truth === predicted ? q : outcome === 'met' ? (1 - q) ** 2 : 1 - q;
          if (rng.next() >= accept) continue;
          probabilities.push(...softmax(logits.map((z) => (outcome === 'met' ? 3 : 2) * z)));
          labels.push(truth);
          break;
        }
      }
    }),
  );
  return { probabilities, labels, classCount: k };
}

/**
 * Validation predictions with test-time augmentation, which differ from the plain quantised
 * evaluation: 152 of 160 right (95.0%).
 */
export const TTA_CONFUSION = [
  [38, 0, 0, 2],
  [0, 40, 0, 0],
  [1, 1, 36, 2],
  [1, 0, 1, 38],
];

/**
 * A calibration report as the trainer computes it. `met`: a model good enough that a threshold
 * reaches 97% accuracy on over 90% of cells; `unmet`: the plain quantised predictions
 * (90.0% right), whose mistakes are too confident for that.
 */
export function calibrationFixture(outcome: DoubtOutcome, unmetConfusion: number[][]): CalibrationReport {
  const scored = outcome === 'met' ? scoredFromConfusion(TTA_CONFUSION, 'met') : scoredFromConfusion(unmetConfusion, 'unmet');
  return calibrate(scored, outcome === 'met' ? 'dihedral8' : 'none', { targetAccuracy: 0.97, minCoverage: 0.9 });
}

/** Mean and sample standard deviation, as a fold table's spread. */
export function spreadOf(values: number[]): Spread {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) };
}

/** Five grouped folds over the fixture's 798 images in 134 groups. */
const FOLDS = [
  // validationImages, groups, accuracy, macroF1, ece
  [161, 27, 0.9317, 0.9301, 0.0312],
  [158, 27, 0.9114, 0.9087, 0.0418],
  [162, 26, 0.9444, 0.9431, 0.0227],
  [157, 27, 0.9045, 0.9012, 0.0486],
  [160, 27, 0.9250, 0.9239, 0.0291],
];

/** Per class: precision, recall, F1 per fold; a monocyte that is hardest, as in the real data. */
const PER_CLASS: number[][][] = [
  [[0.93, 0.91, 0.95, 0.89, 0.92], [0.95, 0.92, 0.96, 0.9, 0.94], [0.94, 0.915, 0.955, 0.895, 0.93]],
  [[0.97, 0.96, 0.98, 0.95, 0.97], [0.98, 0.97, 0.99, 0.96, 0.97], [0.975, 0.965, 0.985, 0.955, 0.97]],
  [[0.88, 0.85, 0.91, 0.84, 0.87], [0.84, 0.8, 0.89, 0.79, 0.85], [0.86, 0.825, 0.9, 0.815, 0.86]],
  [[0.9, 0.88, 0.93, 0.87, 0.9], [0.92, 0.9, 0.94, 0.89, 0.91], [0.91, 0.89, 0.935, 0.88, 0.905]],
];

export function crossValidationFixture(classes: string[]): CrossValidationReport {
  const rows = FOLDS.map(([validationImages, groups, accuracy, macroF1, ece], i) => ({ fold: i + 1, validationImages, groups, accuracy, macroF1, ece }));
  return {
    folds: rows.length,
    rows,
    accuracy: spreadOf(rows.map((r) => r.accuracy)),
    macroF1: spreadOf(rows.map((r) => r.macroF1)),
    perClass: Object.fromEntries(
      classes.map((c, i) => [c, { precision: spreadOf(PER_CLASS[i][0]), recall: spreadOf(PER_CLASS[i][1]), f1: spreadOf(PER_CLASS[i][2]) }]),
    ),
    command: 'npm run cv -- --data ../shared/data/blood-cells/TRAIN --folds 5 --seed 42',
  };
}
