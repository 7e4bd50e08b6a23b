import { argMax, confusionMatrix, evaluationFromConfusion, type Evaluation, type InferencePolicy, type PreprocessingParams } from '../../shared/index.ts';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Example } from '../data/batches.ts';
import { predictServed } from '../training/forward.ts';

interface ScoredEvaluation {
  evaluation: Evaluation;
  /** Flat n x classes probabilities, in example order. */
  probabilities: Float32Array;
  predicted: number[];
}

/**
 * Runs the model over examples the way the Worker serves it (predictServed) and scores it:
 * accuracy, macro-F1, per class, confusion.
 */
export async function evaluateModel(
  model: tfl.LayersModel,
  examples: Example[],
  params: PreprocessingParams,
  classes: string[],
  policy?: InferencePolicy,
): Promise<ScoredEvaluation> {
  const k = classes.length;
  const probabilities = await predictServed(model, examples, params, k, policy);
  const predicted = examples.map((_, i) => argMax(probabilities.subarray(i * k, (i + 1) * k)));
  const confusion = confusionMatrix(examples.map((e) => e.label), predicted, k);
  return { evaluation: evaluationFromConfusion(classes, confusion), probabilities, predicted };
}

/**
 * Accuracy with each source photo counted once: the mean, over groups, of the share of the
 * group's images answered right. Copies of a photo (augmented, re-cropped) weigh no more than
 * one photo, however many there are.
 *
 * @example
 * photoAccuracy([0, 0, 0, 1], [0, 0, 0, 0], [7, 7, 7, 8]); // 0.5 (per image: 0.75)
 */
export function photoAccuracy(labels: number[], predicted: number[], groups: number[]): number {
  const tally = new Map<number, [number, number]>();
  labels.forEach((label, i) => {
    const t = tally.get(groups[i]) ?? [0, 0];
    tally.set(groups[i], [t[0] + (predicted[i] === label ? 1 : 0), t[1] + 1]);
  });
  let sum = 0;
  for (const [right, n] of tally.values()) sum += right / n;
  return tally.size ? sum / tally.size : 0;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** The evaluation as a readable table: headline, per class, confusion matrix. */
export function formatEvaluation(ev: Evaluation): string {
  const width = Math.max(10, ...ev.classes.map((c) => c.length)) + 2;
  const lines = [`accuracy ${pct(ev.accuracy)}   macro-F1 ${ev.macroF1.toFixed(3)}   images ${ev.confusion.flat().reduce((a, b) => a + b, 0)}`, ''];
  lines.push('class'.padEnd(width) + 'precision'.padStart(10) + 'recall'.padStart(10) + 'F1'.padStart(8) + 'support'.padStart(9));
  for (const c of ev.classes) {
    const m = ev.perClass[c];
    lines.push(c.padEnd(width) + pct(m.precision).padStart(10) + pct(m.recall).padStart(10) + m.f1.toFixed(3).padStart(8) + String(m.support).padStart(9));
  }
  lines.push('', 'confusion (rows: true class, columns: predicted)');
  const cell = Math.max(7, ...ev.classes.map((c) => Math.min(c.length, 10))) + 1;
  lines.push(''.padEnd(width) + ev.classes.map((c) => c.slice(0, cell - 1).padStart(cell)).join(''));
  ev.confusion.forEach((row, i) => lines.push(ev.classes[i].padEnd(width) + row.map((v) => String(v).padStart(cell)).join('')));
  return lines.join('\n');
}
