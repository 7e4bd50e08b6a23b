import { applyTemperature, argMax, evaluationFromConfusion, plainInference, type Evaluation } from '../../shared/index.ts';
import { augmentFor } from '../data/augment.ts';
import { setupBackend } from './backend.ts';
import { calibrate, underPolicy, reliability, type ThresholdOptions } from '../evaluation/calibration.ts';
import { FlagError } from '../errors.ts';
import { evaluateModel, photoAccuracy } from '../evaluation/score.ts';
import { architectures } from './architectures.ts';
import type { Reporter } from '../progress.ts';
import { channelStats, loadGrouped } from '../data/grouped-dataset.ts';
import type { CalibrationReport, CrossValidationReport, Spread } from '../report/types.ts';
import { groupedFolds, groupedSplit } from '../data/split.ts';
import { trainLoop } from './train-loop.ts';
import type { TrainOptions } from './train.ts';

export type CrossValidateOptions = Omit<TrainOptions, 'out' | 'version' | 'resume' | 'allowQuantDrop' | 'crossValidation'> & {
  folds: number;
  /** Run only these folds (the others are someone else's: `--jobs` splits folds over processes). */
  only?: number[];
};

/** One held-out fold's result: scored with TTA, temperature and threshold fitted without it. */
export interface FoldResult {
  fold: number;
  validationImages: number;
  groups: number;
  evaluation: Evaluation;
  ece: number;
  coverage: number;
  accuracyAboveThreshold: number;
  /** Accuracy with each held-out source photo counted once (photoAccuracy). */
  photoAccuracy?: number;
  epochsRun: number;
  /** How source groups were found: by content, or by a file-name pattern. */
  grouping?: 'content' | 'pattern';
  /** The held-out images' true labels and probabilities before any temperature (TTA applied). */
  outOfFold?: OutOfFold;
}

/** Predictions of images by a model that never saw their group: n labels, n x k probabilities. */
interface OutOfFold {
  labels: number[];
  probabilities: number[];
}

/**
 * Trains the recipe once per fold on the other folds and scores it on the held-out one. Early
 * stopping, the temperature and the review threshold use an inner grouped split of the training
 * folds, so nothing about the held-out fold leaks into the model or its calibration.
 */
export async function crossValidateFolds(options: CrossValidateOptions, reporter: Reporter): Promise<FoldResult[]> {
  const arch = architectures[options.arch];
  if (!arch) throw new FlagError('arch', options.arch, `use one of ${Object.keys(architectures).join(', ')}`);
  const inputSize = options.inputSize ?? arch.defaultInputSize;
  const { scan, dataset, labels, groups, params: baseParams } = await loadGrouped(options, inputSize, reporter);
  const perClassGroups = scan.classes.map((_, k) => new Set(groups.filter((_, i) => labels[i] === k)).size);
  if (Math.min(...perClassGroups) < options.folds) {
    throw new FlagError('folds', String(options.folds), `class ${scan.classes[perClassGroups.indexOf(Math.min(...perClassGroups))]} has only ${Math.min(...perClassGroups)} source groups; use at most that many folds`);
  }
  const fold = groupedFolds(labels, groups, options.folds, options.seed);
  const backend = await setupBackend(options.backend);
  reporter.info(`backend: ${backend.name} (${backend.reason})`);
  const results: FoldResult[] = [];
  for (let f = 0; f < options.folds; f++) {
    if (options.only && !options.only.includes(f)) continue;
    const outer = labels.map((_, i) => i).filter((i) => fold[i] !== f);
    const held = labels.map((_, i) => i).filter((i) => fold[i] === f);
    const inner = groupedSplit(outer.map((i) => labels[i]), outer.map((i) => groups[i]), options.validationFraction, options.seed + f);
    const trainIdx = inner.train.map((j) => outer[j]);
    const innerVal = inner.validation.map((j) => dataset.images[outer[j]]);
    const trainImages = trainIdx.map((i) => dataset.images[i]);
    const params = { ...baseParams, ...channelStats(trainImages) };
    reporter.summary(`fold ${f + 1}/${options.folds}: ${trainImages.length} train, ${innerVal.length} inner validation, ${held.length} held out`);
    const model = arch.build({ inputSize, classCount: scan.classes.length, seed: options.seed + f });
    const loop = await trainLoop(model, trainImages, innerVal, params, scan.classes.length, {
      epochs: options.epochs, batchSize: options.batchSize, workers: options.workers, seed: options.seed + f, patience: options.patience, keepEpoch: options.keepEpoch,
      learningRate: options.learningRate, schedule: options.schedule, labelSmoothing: options.labelSmoothing,
      groups: trainIdx.map((i) => groups[i]), perClass: options.perClass, augment: augmentFor(options),
      runKey: `cv-${f}`, shouldStop: options.shouldStop,
      onEpochStart: (epoch, batches) => reporter.epochStart(epoch, batches),
      onBatch: (b, speed) => reporter.batch(b, speed),
      onEpochEnd: (record) => reporter.epochEnd(record, 0),
    });
    const raw = { ...plainInference, tta: options.tta };
    const innerScored = await evaluateModel(model, innerVal, params, scan.classes, raw);
    const cal = calibrate({ probabilities: innerScored.probabilities, labels: innerVal.map((im) => im.label), classCount: scan.classes.length }, options.tta, options);
    const heldImages = held.map((i) => dataset.images[i]);
    // One pass over the held-out fold: the temperature changes no prediction, so its figures
    // come from the raw output, which is also what out-of-fold calibration needs.
    const heldRaw = await evaluateModel(model, heldImages, params, scan.classes, raw);
    model.dispose();
    const heldLabels = heldImages.map((im) => im.label);
    const k = scan.classes.length;
    const served = heldImages.map((_, i) => applyTemperature(heldRaw.probabilities.subarray(i * k, (i + 1) * k), cal.temperature));
    const above = heldImages.map((_, i) => i).filter((i) => Math.max(...served[i]) >= cal.threshold);
    const correctAbove = above.filter((i) => argMax(served[i]) === heldLabels[i]).length;
    const result: FoldResult = {
      fold: f + 1, validationImages: held.length, groups: new Set(held.map((i) => groups[i])).size, evaluation: heldRaw.evaluation,
      ece: reliability({ probabilities: served.flat(), labels: heldLabels, classCount: k }).ece,
      coverage: above.length / held.length, accuracyAboveThreshold: above.length ? correctAbove / above.length : 0, epochsRun: loop.history.length,
      photoAccuracy: photoAccuracy(heldLabels, heldRaw.predicted, held.map((i) => groups[i])),
      grouping: options.groupPattern ? 'pattern' : 'content',
      // Six decimals: the JSON stays small and calibration does not notice.
      outOfFold: { labels: heldImages.map((im) => im.label), probabilities: Array.from(heldRaw.probabilities, (p) => Math.round(p * 1e6) / 1e6) },
    };
    reporter.summary(`fold ${f + 1}: accuracy ${(100 * result.evaluation.accuracy).toFixed(1)}%, macro-F1 ${result.evaluation.macroF1.toFixed(3)}, ECE ${result.ece.toFixed(3)}, coverage ${(100 * result.coverage).toFixed(1)}% at ${(100 * result.accuracyAboveThreshold).toFixed(1)}%`);
    results.push(result);
  }
  return results;
}

function spread(values: number[]): Spread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return { mean, std };
}

/** Mean and spread over folds, overall and per class; the pooled confusion sums every fold. */
export function summarizeFolds(results: FoldResult[], command: string, threshold?: ThresholdOptions & { tta: CalibrationReport['tta'] }): CrossValidationReport & { pooled: Evaluation; coverage: Spread; accuracyAboveThreshold: Spread; ece: Spread } {
  const classes = results[0].evaluation.classes;
  const outOfFold = results.every((r) => r.outOfFold)
    ? { labels: results.flatMap((r) => r.outOfFold!.labels), probabilities: results.flatMap((r) => r.outOfFold!.probabilities) }
    : undefined;
  const calibrated = outOfFold && threshold ? calibrate({ ...outOfFold, classCount: classes.length }, threshold.tta, threshold) : undefined;
  const pooledConfusion = classes.map((_, i) => classes.map((_, j) => results.reduce((n, r) => n + r.evaluation.confusion[i][j], 0)));
  return {
    folds: results.length,
    rows: results.map((r) => ({
      fold: r.fold, validationImages: r.validationImages, groups: r.groups, accuracy: r.evaluation.accuracy, macroF1: r.evaluation.macroF1, ece: r.ece, coverage: r.coverage, accuracyAboveThreshold: r.accuracyAboveThreshold,
      ...(r.photoAccuracy === undefined ? {} : { photoAccuracy: r.photoAccuracy }),
    })),
    accuracy: spread(results.map((r) => r.evaluation.accuracy)),
    ...(results.every((r) => r.photoAccuracy !== undefined) ? { photoAccuracy: spread(results.map((r) => r.photoAccuracy!)) } : {}),
    macroF1: spread(results.map((r) => r.evaluation.macroF1)),
    ece: spread(results.map((r) => r.ece)),
    coverage: spread(results.map((r) => r.coverage)),
    accuracyAboveThreshold: spread(results.map((r) => r.accuracyAboveThreshold)),
    perClass: Object.fromEntries(classes.map((c) => [c, {
      precision: spread(results.map((r) => r.evaluation.perClass[c].precision)),
      recall: spread(results.map((r) => r.evaluation.perClass[c].recall)),
      f1: spread(results.map((r) => r.evaluation.perClass[c].f1)),
    }])),
    pooled: evaluationFromConfusion(classes, pooledConfusion),
    ...(results[0].grouping ? { grouping: `${results[0].grouping} (${results.reduce((n, r) => n + r.groups, 0)} groups)` } : {}),
    ...(calibrated ? {
      outOfFoldCalibration: {
        images: outOfFold!.labels.length, temperature: calibrated.temperature, eceBefore: calibrated.eceBefore, eceAfter: calibrated.eceAfter,
        threshold: calibrated.threshold, coverage: calibrated.coverage, accuracyAboveThreshold: calibrated.accuracyAboveThreshold, met: calibrated.met,
        perFold: results.map((r) => {
          const s = underPolicy({ ...r.outOfFold!, classCount: classes.length }, calibrated);
          return { fold: r.fold, coverage: s.coverage, accuracyAboveThreshold: s.accuracyAbove };
        }),
      },
    } : {}),
    ...(outOfFold ? { outOfFold } : {}),
    command,
  };
}
