import { applyTemperature, argMax } from '../../shared/index.ts';
import type { CalibrationReport, CoveragePoint, ReliabilityBin } from '../report/types.ts';
import { reviewSummary } from './review-summary.ts';

/** Flat n x k probabilities with their true labels: what every function here scores. */
export interface Scored {
  probabilities: ArrayLike<number>;
  labels: ArrayLike<number>;
  classCount: number;
}

function rows({ probabilities, labels, classCount }: Scored, temperature = 1): { top: number; correct: boolean; trueP: number }[] {
  const out = [];
  for (let i = 0; i < labels.length; i++) {
    const raw = Array.from({ length: classCount }, (_, c) => probabilities[i * classCount + c]);
    const p = temperature === 1 ? raw : applyTemperature(raw, temperature);
    const best = argMax(p);
    out.push({ top: p[best], correct: best === labels[i], trueP: p[labels[i]] });
  }
  return out;
}

/** Mean negative log-likelihood of the true labels after a temperature. */
export function negativeLogLikelihood(scored: Scored, temperature: number): number {
  const r = rows(scored, temperature);
  return r.reduce((s, { trueP }) => s - Math.log(Math.max(trueP, 1e-12)), 0) / Math.max(1, r.length);
}

/**
 * The temperature that minimises validation NLL (Guo et al. 2017), by golden-section search
 * on log T in [1/20, 20]: NLL is unimodal in T for a fixed set of logits.
 */
export function fitTemperature(scored: Scored): number {
  let lo = Math.log(0.05), hi = Math.log(20);
  const phi = (Math.sqrt(5) - 1) / 2;
  const f = (logT: number) => negativeLogLikelihood(scored, Math.exp(logT));
  let a = hi - phi * (hi - lo), b = lo + phi * (hi - lo);
  let fa = f(a), fb = f(b);
  for (let i = 0; i < 40; i++) {
    if (fa < fb) {
      hi = b; b = a; fb = fa; a = hi - phi * (hi - lo); fa = f(a);
    } else {
      lo = a; a = b; fa = fb; b = lo + phi * (hi - lo); fb = f(b);
    }
  }
  return Math.round(Math.exp((lo + hi) / 2) * 1e4) / 1e4;
}

/** Reliability bins of equal width over top probability, and the expected calibration error. */
export function reliability(scored: Scored, temperature = 1, binCount = 15): { ece: number; bins: ReliabilityBin[] } {
  const r = rows(scored, temperature);
  const bins: ReliabilityBin[] = Array.from({ length: binCount }, (_, b) => ({
    lower: b / binCount, upper: (b + 1) / binCount, count: 0, confidence: 0, accuracy: 0,
  }));
  for (const { top, correct } of r) {
    const bin = bins[Math.min(binCount - 1, Math.floor(top * binCount))];
    bin.count++;
    bin.confidence += top;
    bin.accuracy += correct ? 1 : 0;
  }
  let ece = 0;
  for (const bin of bins) {
    if (!bin.count) continue;
    bin.confidence /= bin.count;
    bin.accuracy /= bin.count;
    ece += (bin.count / r.length) * Math.abs(bin.accuracy - bin.confidence);
  }
  return { ece, bins };
}

/**
 * Accuracy of the cells at or above each confidence threshold, and the share they are of all
 * cells, one point per distinct confidence (highest first), so the curve is exact.
 */
export function accuracyCoverage(scored: Scored, temperature = 1): CoveragePoint[] {
  const r = rows(scored, temperature).sort((x, y) => y.top - x.top);
  const points: CoveragePoint[] = [];
  let correct = 0;
  r.forEach(({ top, correct: ok }, i) => {
    if (ok) correct++;
    // Only the last of a run of equal confidences is a threshold anyone can pick.
    if (i + 1 < r.length && r[i + 1].top === top) return;
    points.push({ threshold: top, coverage: (i + 1) / r.length, accuracy: correct / (i + 1) });
  });
  return points;
}

export interface ThresholdOptions {
  /** Accuracy wanted among the cells at or above the threshold. */
  targetAccuracy: number;
  /** Least share of cells that should stay above it. */
  minCoverage: number;
}

/**
 * The lowest threshold whose cells above reach the target accuracy: it keeps the most cells
 * out of review. When even all cells reach it the threshold is 0 (nothing flagged); when no
 * threshold does, it is 1 (everything flagged) and `met` is false.
 */
export function chooseThreshold(curve: CoveragePoint[], options: ThresholdOptions): CoveragePoint & { met: boolean } {
  const meeting = curve.filter((p) => p.accuracy >= options.targetAccuracy);
  const widest = meeting.reduce<CoveragePoint | undefined>((best, p) => (!best || p.coverage > best.coverage ? p : best), undefined);
  if (widest) {
    const all = widest.coverage === 1;
    return { ...widest, threshold: all ? 0 : widest.threshold, met: widest.coverage >= options.minCoverage };
  }
  // No threshold reaches the accuracy target: every answer is flagged, rather than most let
  // through at an accuracy nobody asked for.
  return { threshold: 1, coverage: 0, accuracy: 0, met: false };
}

/** Temperature, ECE before/after, and the review threshold, for the report and the manifest. */
export function calibrate(scored: Scored, tta: CalibrationReport['tta'], options: ThresholdOptions): CalibrationReport {
  const temperature = fitTemperature(scored);
  const before = reliability(scored, 1);
  const after = reliability(scored, temperature);
  const curve = accuracyCoverage(scored, temperature);
  const chosen = chooseThreshold(curve, options);
  return {
    tta, temperature,
    eceBefore: before.ece, eceAfter: after.ece, binsBefore: before.bins, binsAfter: after.bins,
    curve, threshold: chosen.threshold, coverage: chosen.coverage, accuracyAboveThreshold: chosen.accuracy,
    targetAccuracy: options.targetAccuracy, minCoverage: options.minCoverage, met: chosen.met,
  };
}

/**
 * An out-of-fold policy checked on the served model's own validation split, and its threshold
 * raised when that split needs a higher one to reach the target accuracy: the policy was fitted
 * on the fold models, but the answers a lab relies on are this model's. The raised threshold is
 * a point of the out-of-fold curve, so the report's figures stay exact.
 *
 * @example
 * const policy = holdOnServedModel(calibrate(outOfFold, 'none', options), validation);
 * policy.servedValidation; // { images, coverage, accuracyAboveThreshold, raisedFrom? }
 */
export function holdOnServedModel(report: CalibrationReport, validation: Scored): CalibrationReport {
  const served = { ...validation, probabilities: tempered(validation, report.temperature) };
  let chosen: CoveragePoint = { threshold: report.threshold, coverage: report.coverage, accuracy: report.accuracyAboveThreshold };
  const atPolicy = reviewSummary(served, report.threshold);
  if (report.threshold < 1 && atPolicy.accuracyAbove !== null && atPolicy.accuracyAbove < report.targetAccuracy) {
    const own = chooseThreshold(accuracyCoverage(served).filter((p) => p.threshold > report.threshold), report);
    // The curve runs from the highest threshold down: the last point at or above is the lowest.
    chosen = report.curve.filter((p) => p.threshold >= own.threshold).at(-1) ?? { threshold: 1, coverage: 0, accuracy: 0 };
  }
  const summary = reviewSummary(served, chosen.threshold);
  return {
    ...report,
    threshold: chosen.threshold, coverage: chosen.coverage, accuracyAboveThreshold: chosen.accuracy,
    met: chosen.threshold < 1 && chosen.accuracy >= report.targetAccuracy && chosen.coverage >= report.minCoverage,
    servedValidation: {
      images: validation.labels.length, coverage: summary.coverage, accuracyAboveThreshold: summary.accuracyAbove,
      ...(chosen.threshold > report.threshold ? { raisedFrom: report.threshold } : {}),
    },
  };
}

/**
 * How a review policy (temperature, then threshold) splits scored cells.
 *
 * @example
 * underPolicy({ probabilities: [0.9, 0.1, 0.6, 0.4], labels: [0, 1], classCount: 2 }, { temperature: 1, threshold: 0.8 });
 * // { threshold: 0.8, coverage: 0.5, accuracyAbove: 1, errorsFlagged: 1 }
 */
export function underPolicy(scored: Scored, policy: { temperature: number; threshold: number }): ReturnType<typeof reviewSummary> {
  return reviewSummary({ ...scored, probabilities: tempered(scored, policy.temperature) }, policy.threshold);
}

function tempered({ probabilities, labels, classCount }: Scored, temperature: number): Float64Array {
  const out = new Float64Array(labels.length * classCount);
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from({ length: classCount }, (_, c) => probabilities[i * classCount + c]);
    out.set(applyTemperature(row, temperature), i * classCount);
  }
  return out;
}
