import type { ClassMetrics, Evaluation } from './manifest.ts';

/**
 * Confusion matrix from true and predicted class indices: `m[i][j]` counts items of
 * true class `i` predicted as `j`.
 *
 * @example
 * confusionMatrix([0, 1, 1], [0, 1, 0], 2); // [[1, 0], [1, 1]]
 */
export function confusionMatrix(truth: ArrayLike<number>, predicted: ArrayLike<number>, classCount: number): number[][] {
  if (truth.length !== predicted.length) {
    throw new RangeError(`truth has ${truth.length} items but predictions ${predicted.length}`);
  }
  const m = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][predicted[i]]++;
  return m;
}

/**
 * Accuracy, macro-F1 and per-class precision/recall/F1/support from a confusion matrix.
 * A class never predicted has precision 0 (not NaN), so JSON stays valid. Macro-F1 is the mean
 * F1 over the classes with support (at least one item of that true class): a class with none has
 * no recall to measure, and counting its F1 of 0 would read one correct answer out of one, with
 * four classes, as 0.25.
 *
 * @example
 * const ev = evaluationFromConfusion(['a', 'b'], [[1, 0], [1, 1]]);
 * ev.accuracy; // 2 / 3
 */
export function evaluationFromConfusion(classes: string[], confusion: number[][]): Evaluation {
  const n = classes.length;
  let total = 0, correct = 0;
  const perClass: Record<string, ClassMetrics> = {};
  let f1Sum = 0, supported = 0;
  for (let i = 0; i < n; i++) {
    let rowSum = 0, colSum = 0;
    for (let j = 0; j < n; j++) {
      rowSum += confusion[i][j];
      colSum += confusion[j][i];
      total += confusion[i][j];
    }
    correct += confusion[i][i];
    const tp = confusion[i][i];
    const precision = colSum ? tp / colSum : 0;
    const recall = rowSum ? tp / rowSum : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[classes[i]] = { precision, recall, f1, support: rowSum };
    if (rowSum) {
      f1Sum += f1;
      supported++;
    }
  }
  return { classes, accuracy: total ? correct / total : 0, macroF1: supported ? f1Sum / supported : 0, perClass, confusion };
}

/**
 * Index of the largest value.
 *
 * @example
 * argMax([0.1, 0.7, 0.2]); // 1
 */
export function argMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
