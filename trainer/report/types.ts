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

interface DatasetSummary {
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
  /** Present when the run fitted a temperature and a review threshold. */
  calibration?: CalibrationReport;
  /** Present when the run was cross-validated (`npm run train:flagship`). */
  crossValidation?: CrossValidationReport;
}

/** One equal-width bin of top probability: how confident the model was and how often right. */
export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean top probability of the bin's cells (0 when empty). */
  confidence: number;
  /** Share of the bin's cells classified correctly (0 when empty). */
  accuracy: number;
}

/** Cells whose top probability is at least `threshold`: their share and their accuracy. */
export interface CoveragePoint {
  threshold: number;
  coverage: number;
  accuracy: number;
}

/** Calibration and doubt, fitted on the validation split or on cross-validation's out-of-fold predictions. */
export interface CalibrationReport {
  tta: 'none' | 'dihedral8';
  /** What the temperature and threshold were fitted on (validation when absent). */
  source?: 'validation' | 'out-of-fold';
  temperature: number;
  /** Expected calibration error (15 bins) with the model's own probabilities, and after the temperature. */
  eceBefore: number;
  eceAfter: number;
  binsBefore: ReliabilityBin[];
  binsAfter: ReliabilityBin[];
  /** Accuracy-coverage curve after the temperature, highest threshold first. */
  curve: CoveragePoint[];
  /** Review threshold chosen (0: nothing flagged) and the coverage/accuracy it gives. */
  threshold: number;
  coverage: number;
  accuracyAboveThreshold: number;
  targetAccuracy: number;
  minCoverage: number;
  /** Whether both the accuracy target and the minimum coverage were met. */
  met: boolean;
  /** Out-of-fold calibration only: the served model under the fitted policy, on its own validation split. */
  servedValidation?: ServedValidation;
}

/** The served model under the review policy on its validation split; accuracy null when all is flagged. */
export interface ServedValidation {
  images: number;
  coverage: number;
  accuracyAboveThreshold: number | null;
  /** The out-of-fold threshold, when this split needed a higher one to reach the target. */
  raisedFrom?: number;
}

/** Mean and standard deviation over folds. */
export interface Spread {
  mean: number;
  std: number;
}

/** Grouped k-fold cross-validation of the recipe that produced the model. */
export interface CrossValidationReport {
  folds: number;
  /** One row per fold: its held-out images and scores. */
  rows: {
    fold: number; validationImages: number; groups: number; accuracy: number; macroF1: number; ece: number;
    /** Share of held-out cells at or above the threshold fitted without them, and their accuracy. */
    coverage?: number; accuracyAboveThreshold?: number;
    /** Accuracy with each source photo counted once (absent in older results). */
    photoAccuracy?: number;
  }[];
  accuracy: Spread;
  /** Accuracy with each source photo counted once, its copies averaged (absent in older results). */
  photoAccuracy?: Spread;
  macroF1: Spread;
  ece?: Spread;
  coverage?: Spread;
  accuracyAboveThreshold?: Spread;
  perClass: Record<string, { precision: Spread; recall: Spread; f1: Spread }>;
  /** How images were kept together in folds, e.g. "content (274 groups)" (absent in older results). */
  grouping?: string;
  /**
   * A temperature and review threshold fitted on every image's out-of-fold prediction at once,
   * and what they give there (ECE after, coverage and accuracy above the threshold are in-sample
   * for those two fitted numbers).
   */
  outOfFoldCalibration?: {
    images: number; temperature: number; eceBefore: number; eceAfter: number;
    threshold: number; coverage: number; accuracyAboveThreshold: number; met: boolean;
    /**
     * Each fold's held-out images under that one policy: how far a single model's figures stray
     * from the pooled ones (a confidently wrong source photo counts once per copy).
     */
    perFold?: { fold: number; coverage: number; accuracyAboveThreshold: number | null }[];
  };
  /** The out-of-fold predictions themselves (true labels, n x k probabilities before any temperature), for `train --cv-results`. */
  outOfFold?: { labels: number[]; probabilities: number[] };
  /** The command that ran it. */
  command: string;
}
