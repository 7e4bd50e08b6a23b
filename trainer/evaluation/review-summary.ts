import { argMax, needsReview, plainInference, type Evaluation } from '../../shared/index.ts';
import type { Scored } from './calibration.ts';

/** How the review flag splits a labelled set, scored on the probabilities as served. */
export interface ReviewSummary {
  /** Top probability under which an image is flagged for review; 0 flags nothing. */
  threshold: number;
  /** Share of images not flagged (top probability at or above the threshold). */
  coverage: number;
  /** Accuracy among the images not flagged; null when every image is flagged. */
  accuracyAbove: number | null;
  /** Share of the wrong answers that are flagged; null when there are none. */
  errorsFlagged: number | null;
}

/** One evaluated image: its path under the data folder, true class index, served probabilities. */
export interface PredictionRow {
  path: string;
  label: number;
  probabilities: ArrayLike<number>;
  /** The version's domain check on the photo; null when the version has no domain profile. */
  outOfDomain: boolean | null;
}

interface Served {
  predicted: number;
  confidence: number;
  review: boolean;
}

// Through shared's needsReview, so evaluate flags exactly the images the Worker would.
function served(probabilities: ArrayLike<number>, threshold: number): Served {
  const predicted = argMax(probabilities);
  const confidence = probabilities[predicted];
  return { predicted, confidence, review: needsReview(confidence, { ...plainInference, reviewThreshold: threshold }) };
}

function rowAt({ probabilities, classCount }: Scored, i: number): number[] {
  return Array.from({ length: classCount }, (_, c) => probabilities[i * classCount + c]);
}

/**
 * Coverage, accuracy above the threshold and the share of errors caught by the review flag.
 *
 * @example
 * reviewSummary({ probabilities: [0.9, 0.1, 0.6, 0.4], labels: [0, 1], classCount: 2 }, 0.8);
 * // { threshold: 0.8, coverage: 0.5, accuracyAbove: 1, errorsFlagged: 1 }
 */
export function reviewSummary(scored: Scored, threshold: number): ReviewSummary {
  const n = scored.labels.length;
  let kept = 0, keptCorrect = 0, wrong = 0, wrongFlagged = 0;
  for (let i = 0; i < n; i++) {
    const { predicted, review } = served(rowAt(scored, i), threshold);
    const correct = predicted === scored.labels[i];
    if (!review) {
      kept++;
      if (correct) keptCorrect++;
    }
    if (!correct) {
      wrong++;
      if (review) wrongFlagged++;
    }
  }
  return {
    threshold,
    coverage: n ? kept / n : 0,
    accuracyAbove: kept ? keptCorrect / kept : null,
    errorsFlagged: wrong ? wrongFlagged / wrong : null,
  };
}

/** One CSV field, quoted as RFC 4180 asks when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * The per-image predictions as CSV: `path,label,predicted,confidence,review`, then one
 * probability column per class in `classes` order, then `outOfDomain` (empty without a domain
 * profile). Numbers are written in full so the confidence column reproduces the review column
 * exactly. The Worker flags a cell when `review` or `outOfDomain` is true.
 */
export function predictionsCsv(classes: string[], rows: PredictionRow[], threshold: number): string {
  const lines = [['path', 'label', 'predicted', 'confidence', 'review', ...classes, 'outOfDomain'].map(csvField).join(',')];
  for (const row of rows) {
    const { predicted, confidence, review } = served(row.probabilities, threshold);
    const fields = [row.path, classes[row.label], classes[predicted], String(confidence), String(review), ...Array.from(row.probabilities, String), row.outOfDomain === null ? '' : String(row.outOfDomain)];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

/** The calibration and review figures as the lines printed after the evaluation table. */
export function formatReview(ece: number, review: ReviewSummary, ev: Evaluation): string {
  const images = ev.confusion.flat().reduce((a, b) => a + b, 0);
  const wrong = images - ev.confusion.reduce((n, row, i) => n + row[i], 0);
  const kept = Math.round(review.coverage * images);
  const rule = review.threshold > 0 ? `review below ${review.threshold.toFixed(3)}` : 'no review threshold (nothing flagged)';
  const above = review.accuracyAbove === null ? '' : `, ${pct(review.accuracyAbove)} of them correct`;
  const errors = review.errorsFlagged === null ? 'no wrong answers' : `${Math.round(review.errorsFlagged * wrong)} of ${wrong} wrong answers flagged`;
  return [
    `ECE ${ece.toFixed(3)} (15 bins, probabilities as served)`,
    `${rule}: ${kept} of ${images} images kept (${pct(review.coverage)})${above}; ${errors}`,
  ].join('\n');
}
