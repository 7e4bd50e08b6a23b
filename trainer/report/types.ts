import type { Evaluation, Manifest } from '../../shared/index.ts';

/** One row of the training history: train and validation figures after an epoch. */
export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Wall time of the epoch, training plus validation. */
  durationMs: number;
}

/** A validation image the model got wrong with high confidence. */
export interface Mistake {
  /** Path relative to the dataset root. */
  path: string;
  trueLabel: string;
  predictedLabel: string;
  /** Probability the model gave to `predictedLabel`. */
  probability: number;
  /** A small PNG of the photo, embedded in the report as a data URI. */
  thumbnailPng: Uint8Array;
}

export interface DatasetSummary {
  /** The dataset folder as given on the command line. */
  root: string;
  classes: string[];
  imagesPerClass: Record<string, number>;
  /** Groups of near-duplicate images (augmented copies of one photo), per class. */
  groupsPerClass: Record<string, number>;
  trainImages: number;
  validationImages: number;
  /** How the validation split was grouped, in a sentence. */
  splitDescription: string;
  skipped: { path: string; reason: string }[];
}

/** Everything `renderReport` needs; it does no I/O of its own. */
export interface ReportData {
  manifest: Manifest;
  history: EpochRecord[];
  floatEvaluation: Evaluation;
  quantizedEvaluation: Evaluation;
  dataset: DatasetSummary;
  /** Most confident mistakes on validation, most confident first (at most ~12). */
  mistakes: Mistake[];
  parameters: number;
  /** Bytes of model.json plus weight files as written. */
  modelBytes: number;
}
