import type { Evaluation } from '../../shared/index.ts';
import type { CalibrationReport, CrossValidationReport, ReliabilityBin, ReportData, Spread } from './types.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Report input that cannot be drawn: a bug upstream, named precisely so it can be found. */
export class ReportDataError extends Error {
  override name = 'ReportDataError';
}

/** Rounding in upstream arithmetic (sums of bin widths, means of fold scores) stays under this. */
const EPS = 1e-9;

function unit(label: string, v: number): void {
  if (!(v >= 0 && v <= 1)) throw new ReportDataError(`${label} is ${v}, outside [0, 1]`);
}

function wholeCount(label: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new ReportDataError(`${label} is ${v}: it must be a whole count, 0 or more`);
}

function checkBins(label: string, bins: ReliabilityBin[]): void {
  if (bins.length === 0) throw new ReportDataError(`calibration ${label} has no bins`);
  bins.forEach((b, i) => {
    const name = `calibration ${label}[${i}]`;
    unit(`${name}.lower`, b.lower);
    unit(`${name}.upper`, b.upper);
    if (!(b.lower < b.upper)) throw new ReportDataError(`${name} runs from ${b.lower} to ${b.upper}: lower must be below upper`);
    const expectedLower = i === 0 ? 0 : bins[i - 1].upper;
    if (Math.abs(b.lower - expectedLower) > EPS) {
      throw new ReportDataError(`${name} starts at ${b.lower}, expected ${expectedLower}: bins must be ordered and cover [0, 1] without gaps`);
    }
    wholeCount(`${name}.count`, b.count);
    unit(`${name}.confidence`, b.confidence);
    unit(`${name}.accuracy`, b.accuracy);
    if (b.count > 0 && (b.confidence < b.lower - EPS || b.confidence > b.upper + EPS)) {
      throw new ReportDataError(`${name} has mean confidence ${b.confidence}, outside its range [${b.lower}, ${b.upper}]`);
    }
  });
  const last = bins[bins.length - 1].upper;
  if (Math.abs(last - 1) > EPS) throw new ReportDataError(`calibration ${label} end at ${last}: the last bin must reach 1`);
}

/** Throws a `ReportDataError` naming the first figure of `c` the report cannot show truthfully. */
function checkCalibration(c: CalibrationReport): void {
  if (c.tta !== 'none' && c.tta !== 'dihedral8') throw new ReportDataError(`calibration.tta is "${c.tta}": expected "none" or "dihedral8"`);
  if (!(c.temperature > 0 && Number.isFinite(c.temperature))) {
    throw new ReportDataError(`calibration.temperature is ${c.temperature}: it must be a positive number`);
  }
  for (const k of ['eceBefore', 'eceAfter', 'threshold', 'coverage', 'accuracyAboveThreshold', 'targetAccuracy', 'minCoverage'] as const) {
    unit(`calibration.${k}`, c[k]);
  }
  checkBins('binsBefore', c.binsBefore);
  checkBins('binsAfter', c.binsAfter);
  if (c.binsBefore.length !== c.binsAfter.length) {
    throw new ReportDataError(`calibration has ${c.binsBefore.length} bins before and ${c.binsAfter.length} after: both must use the same bins`);
  }
  const cells = (bins: ReliabilityBin[]) => bins.reduce((s, b) => s + b.count, 0);
  if (cells(c.binsBefore) !== cells(c.binsAfter)) {
    throw new ReportDataError(`calibration bins hold ${cells(c.binsBefore)} cells before and ${cells(c.binsAfter)} after: they must count the same cells`);
  }
  if (c.curve.length === 0) throw new ReportDataError('calibration.curve is empty: it needs at least one point');
  c.curve.forEach((p, i) => {
    unit(`calibration.curve[${i}].threshold`, p.threshold);
    unit(`calibration.curve[${i}].coverage`, p.coverage);
    unit(`calibration.curve[${i}].accuracy`, p.accuracy);
    const prev = c.curve[i - 1];
    if (prev && (p.threshold > prev.threshold || p.coverage <= prev.coverage)) {
      throw new ReportDataError(`calibration.curve[${i}] (threshold ${p.threshold}, coverage ${p.coverage}) is out of order: thresholds must fall and coverage rise`);
    }
  });
  // Threshold 1 with nothing above it: no threshold reached the target, so every answer is flagged.
  const flagsAll = c.threshold === 1 && c.coverage === 0;
  if (!flagsAll && !c.curve.some((p) => Math.abs(p.coverage - c.coverage) < EPS && Math.abs(p.accuracy - c.accuracyAboveThreshold) < EPS)) {
    throw new ReportDataError(`calibration coverage ${c.coverage} with accuracy ${c.accuracyAboveThreshold} is not a point of calibration.curve`);
  }
  const met = c.accuracyAboveThreshold >= c.targetAccuracy && c.coverage >= c.minCoverage;
  if (c.met !== met) {
    throw new ReportDataError(`calibration.met is ${c.met}, but accuracy ${c.accuracyAboveThreshold} (target ${c.targetAccuracy}) and coverage ${c.coverage} (minimum ${c.minCoverage}) say ${met}`);
  }
}

function checkSpread(label: string, s: Spread, folds: number[]): void {
  unit(`${label}.mean`, s.mean);
  if (!(s.std >= 0 && Number.isFinite(s.std))) throw new ReportDataError(`${label}.std is ${s.std}: it must be 0 or more`);
  if (folds.length && (s.mean < Math.min(...folds) - EPS || s.mean > Math.max(...folds) + EPS)) {
    throw new ReportDataError(`${label}.mean is ${s.mean}, outside the folds' range [${Math.min(...folds)}, ${Math.max(...folds)}]: a mean over folds cannot be`);
  }
}

/** Throws a `ReportDataError` naming the first inconsistency of `cv` against the model's classes. */
function checkCrossValidation(cv: CrossValidationReport, classes: string[]): void {
  if (!Number.isInteger(cv.folds) || cv.folds < 2) throw new ReportDataError(`crossValidation.folds is ${cv.folds}: k-fold needs a whole number of folds, 2 or more`);
  if (cv.rows.length !== cv.folds) throw new ReportDataError(`crossValidation has ${cv.rows.length} rows for ${cv.folds} folds: one row per fold`);
  const seen = new Set<number>();
  cv.rows.forEach((r, i) => {
    const name = `crossValidation.rows[${i}]`;
    if (!Number.isInteger(r.fold) || seen.has(r.fold)) throw new ReportDataError(`${name}.fold is ${r.fold}: folds must be distinct whole numbers`);
    seen.add(r.fold);
    wholeCount(`${name}.validationImages`, r.validationImages);
    wholeCount(`${name}.groups`, r.groups);
    unit(`${name}.accuracy`, r.accuracy);
    unit(`${name}.macroF1`, r.macroF1);
    unit(`${name}.ece`, r.ece);
  });
  checkSpread('crossValidation.accuracy', cv.accuracy, cv.rows.map((r) => r.accuracy));
  checkSpread('crossValidation.macroF1', cv.macroF1, cv.rows.map((r) => r.macroF1));
  const keys = Object.keys(cv.perClass);
  const missing = classes.find((c) => !keys.includes(c));
  if (missing !== undefined) throw new ReportDataError(`crossValidation.perClass has no figures for "${missing}"`);
  const extra = keys.find((k) => !classes.includes(k));
  if (extra !== undefined) throw new ReportDataError(`crossValidation.perClass names "${extra}", which is not among the manifest's classes`);
  for (const c of classes) {
    for (const k of ['precision', 'recall', 'f1'] as const) checkSpread(`crossValidation.perClass["${c}"].${k}`, cv.perClass[c][k], []);
  }
  if (typeof cv.command !== 'string' || cv.command.trim() === '') throw new ReportDataError('crossValidation.command is empty: name the command that ran it');
}

function checkEvaluation(label: string, ev: Evaluation, classes: string[]): void {
  const n = classes.length;
  if (ev.classes.length !== n || ev.classes.some((c, i) => c !== classes[i])) {
    throw new ReportDataError(`${label} evaluation has classes [${ev.classes.join(', ')}], the manifest [${classes.join(', ')}]`);
  }
  if (ev.confusion.length !== n || ev.confusion.some((row) => row.length !== n)) {
    throw new ReportDataError(`${label} confusion matrix must be ${n}×${n}, one row and column per class`);
  }
  if (ev.confusion.some((row) => row.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new ReportDataError(`${label} confusion matrix must hold non-negative whole counts`);
  }
  const missing = classes.find((c) => !ev.perClass[c]);
  if (missing !== undefined) throw new ReportDataError(`${label} evaluation has no per-class figures for "${missing}"`);
}

/** Throws a `ReportDataError` naming the first part of `data` the report cannot show. */
export function validateReportData(data: ReportData): void {
  const classes = data.manifest.classes;
  checkEvaluation('float', data.floatEvaluation, classes);
  checkEvaluation('quantised', data.quantizedEvaluation, classes);
  const unknown = data.dataset.classes.find((c) => !classes.includes(c));
  if (unknown !== undefined) throw new ReportDataError(`dataset class "${unknown}" is not among the manifest's classes`);
  data.history.forEach((r, i) => {
    if (!Number.isInteger(r.epoch) || (i > 0 && r.epoch <= data.history[i - 1].epoch)) {
      throw new ReportDataError(`history entry ${i} has epoch ${r.epoch}: epochs must be whole numbers in increasing order`);
    }
  });
  for (const m of data.mistakes) {
    const t = m.thumbnailPng;
    if (!(t instanceof Uint8Array) || PNG_SIGNATURE.some((b, i) => t[i] !== b)) {
      throw new ReportDataError(`the thumbnail of mistake ${m.path} is not a PNG image`);
    }
    if (!(m.probability >= 0 && m.probability <= 1)) {
      throw new ReportDataError(`mistake ${m.path} has probability ${m.probability}, outside [0, 1]`);
    }
  }
  if (data.calibration) checkCalibration(data.calibration);
  if (data.crossValidation) checkCrossValidation(data.crossValidation, classes);
}
