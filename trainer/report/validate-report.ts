import type { Evaluation } from '../../shared/index.ts';
import type { ReportData } from './types.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Report input that cannot be drawn: a bug upstream, named precisely so it can be found. */
export class ReportDataError extends Error {
  override name = 'ReportDataError';
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
}
