import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { domainScore, fitDomainProfile, isOutOfDomain, plainInference, type JpegScaleMode, type Manifest, type PreprocessingParams, type QuantizationDtype } from '../../shared/index.ts';
import { augmentFor } from '../data/augment.ts';
import { setupBackend, type BackendChoice } from './backend.ts';
import { calibrate, holdOnServedModel } from '../evaluation/calibration.ts';
import { Checkpoint } from './checkpoint.ts';
import { FlagError, InterruptedError, QuantizationError } from '../errors.ts';
import { evaluateModel } from '../evaluation/score.ts';
import { loadModel, MODEL_FILE, recordSelfTest, saveModel, WEIGHTS_FILE } from '../export/model-io.ts';
import { architectures, parameterCount } from './architectures.ts';
import { featuresServed } from './forward.ts';
import { recordPixelTest } from '../export/pixel-test.ts';
import { quantizationTooCostly } from '../export/quantize.ts';
import { channelStats, loadGrouped } from '../data/grouped-dataset.ts';
import type { Reporter } from '../progress.ts';
import type { CrossValidationReport } from '../report/types.ts';
import { groupedSplit } from '../data/split.ts';
import { trainLoop } from './train-loop.ts';
import { assertVersionFree, confidentMistakes, discardStaging, finishVersion } from '../export/version-writer.ts';

export interface TrainOptions {
  data: string;
  out: string;
  version: string;
  epochs: number;
  seed: number;
  arch: string;
  inputSize?: number;
  quantize: QuantizationDtype;
  backend: BackendChoice;
  resume: boolean;
  crop: PreprocessingParams['crop'];
  /** Side of the `cell` window in cell radii (PreprocessingParams.cellScale). */
  cellScale?: number;
  /** JPEG decode scale (PreprocessingParams.jpegScale); default `full`. */
  jpegScale?: JpegScaleMode;
  groupPattern?: string;
  groupThreshold: number;
  validationFraction: number;
  batchSize: number;
  /** Data-parallel training threads; undefined: one per core (wasm). */
  workers?: number;
  learningRate: number;
  patience: number;
  /** Which epoch's weights to keep (LoopOptions.keepEpoch); default `best`. */
  keepEpoch?: 'best' | 'last';
  augment: boolean;
  /** Scale augmentation (AugmentOptions.zoom) and any-angle turns, when `augment` is on. */
  zoom: number;
  rotate: boolean;
  /** Stain jitter (AugmentOptions.stain), when `augment` is on; 0 or absent turns it off. */
  stainJitter?: number;
  /** Hue jitter in degrees (AugmentOptions.hue), when `augment` is on; 0 or absent turns it off. */
  hueJitter?: number;
  /** Random erasing's chance (AugmentOptions.erase), when `augment` is on; 0 or absent turns it off. */
  erase?: number;
  /** Mixup's alpha (AugmentOptions.mixup), when `augment` is on; 0 or absent turns it off. */
  mixup?: number;
  /** Learning-rate schedule over the epochs. */
  schedule: 'constant' | 'cosine';
  labelSmoothing: number;
  /** Images per class per epoch, drawn evenly from its source groups; 0 = every image once. */
  perClass: number;
  /** Test-time averaging over the cell's dihedral symmetries, in evaluation and in the Worker. */
  tta: 'none' | 'dihedral8';
  /** Accuracy wanted above the review threshold, and the least share of cells above it. */
  targetAccuracy: number;
  minCoverage: number;
  /** Cross-validation of this recipe, run beforehand, shown in the manifest and report. */
  crossValidation?: CrossValidationReport;
  allowQuantDrop: boolean;
  cacheDir: string;
  command: string;
  /** Model name in the manifest; default: the data folder's name. */
  name?: string;
  shouldStop?: () => boolean;
}

function meanPerClass(cv: CrossValidationReport): Record<string, { precision: number; recall: number; f1: number }> {
  return Object.fromEntries(Object.entries(cv.perClass).map(([c, m]) => [c, { precision: m.precision.mean, recall: m.recall.mean, f1: m.f1.mean }]));
}

/** The whole training run: dataset to a finished, evaluated, quantised model version. */
export async function train(options: TrainOptions, reporter: Reporter): Promise<Manifest> {
  const arch = architectures[options.arch];
  if (!arch) throw new FlagError('arch', options.arch, `use one of ${Object.keys(architectures).join(', ')}`);
  const inputSize = options.inputSize ?? arch.defaultInputSize;
  const finalDir = path.join(options.out, options.version);
  await assertVersionFree(finalDir);

  const { scan, dataset, labels, groups, params: baseParams } = await loadGrouped(options, inputSize, reporter);
  let params = baseParams;
  const groupCount = new Set(groups).size;
  const split = groupedSplit(labels, groups, options.validationFraction, options.seed);
  const splitDescription = options.groupPattern
    ? `grouped by file-name pattern /${options.groupPattern}/ (${groupCount} groups): no group has images on both sides`
    : `grouped by content (copies of one photo found from the pixels, threshold ${options.groupThreshold}; ${groupCount} groups): no group has images on both sides; check the groups with npm run groups -- --sheet`;
  const trainImages = split.train.map((i) => dataset.images[i]);
  const valImages = split.validation.map((i) => dataset.images[i]);
  params = { ...params, ...channelStats(trainImages) };
  reporter.info(`split: ${trainImages.length} train / ${valImages.length} validation, ${splitDescription}`);

  const backend = await setupBackend(options.backend);
  reporter.info(`backend: ${backend.name} (${backend.reason})`);
  const model = arch.build({ inputSize, classCount: scan.classes.length, seed: options.seed });
  const runKey = createHash('sha256')
    .update(JSON.stringify([dataset.fingerprint, params, options.arch, options.seed, options.batchSize, options.learningRate, options.groupPattern ?? options.groupThreshold, augmentFor(options), options.schedule, options.labelSmoothing, options.perClass, options.epochs, options.keepEpoch ?? 'best', options.workers ?? 'default', backend.name]))
    .digest('hex')
    .slice(0, 16);
  await mkdir(options.out, { recursive: true });
  const checkpoint = new Checkpoint(path.join(options.out, `.${options.version}.checkpoint`));
  if (options.resume) {
    const state = await checkpoint.readState();
    if (!state) reporter.warn(`--resume: no checkpoint at ${checkpoint.dir}; starting from epoch 1`);
    else if (state.runKey !== runKey) reporter.warn(`--resume: the checkpoint at ${checkpoint.dir} was made with other data or settings; starting from epoch 1`);
    else reporter.info(`resuming after epoch ${state.epochsDone}`);
  }
  let lastSpeed = 0;
  const loop = await trainLoop(model, trainImages, valImages, params, scan.classes.length, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    workers: options.workers,
    seed: options.seed,
    patience: options.patience,
    keepEpoch: options.keepEpoch,
    learningRate: options.learningRate,
    schedule: options.schedule,
    labelSmoothing: options.labelSmoothing,
    groups: split.train.map((i) => groups[i]),
    perClass: options.perClass,
    augment: augmentFor(options),
    checkpoint,
    runKey,
    resume: options.resume,
    shouldStop: options.shouldStop,
    onEpochStart: (epoch, batches) => reporter.epochStart(epoch, batches),
    onBatch: (b, speed) => {
      lastSpeed = speed;
      reporter.batch(b, speed);
    },
    onEpochEnd: (record) => reporter.epochEnd(record, lastSpeed),
  });
  if (loop.stop === 'interrupted') {
    const done = loop.history.length;
    throw new InterruptedError(`interrupted: checkpoint after epoch ${done} kept in ${checkpoint.dir}; run the same command with --resume to continue`);
  }

  // Validation runs as serving will: TTA first, then a temperature and threshold fitted on its output.
  const raw = { ...plainInference, tta: options.tta };
  const floatEval = await evaluateModel(model, valImages, params, scan.classes, raw);
  const staging = path.join(options.out, `.${options.version}.partial`);
  await discardStaging(staging);
  const modelBytes = await saveModel(model, staging, options.quantize);
  const quantModel = await loadModel(staging);
  const quantEval = await evaluateModel(quantModel, valImages, params, scan.classes, raw);
  const drop = floatEval.evaluation.accuracy - quantEval.evaluation.accuracy;
  if (quantizationTooCostly(floatEval.evaluation.accuracy, quantEval.evaluation.accuracy, valImages.length) && !options.allowQuantDrop) {
    await discardStaging(staging);
    throw new QuantizationError(
      `quantising to ${options.quantize} cost ${(100 * drop).toFixed(1)} points of validation accuracy (float ${(100 * floatEval.evaluation.accuracy).toFixed(1)}%, quantised ${(100 * quantEval.evaluation.accuracy).toFixed(1)}%), more than 1 point and more than one image: use --quantize uint16 or float16, or pass --allow-quant-drop to keep it`,
    );
  }
  const q = quantEval.evaluation;
  // Every image's out-of-fold prediction, when the recipe was cross-validated, is a far larger
  // and more varied set of source photos to fit the temperature and threshold on than one split.
  const outOfFold = options.crossValidation?.outOfFold;
  const thresholdOptions = { targetAccuracy: options.targetAccuracy, minCoverage: options.minCoverage };
  const validationScored = { probabilities: quantEval.probabilities, labels: valImages.map((im) => im.label), classCount: scan.classes.length };
  const calibration = outOfFold
    ? { ...holdOnServedModel(calibrate({ ...outOfFold, classCount: scan.classes.length }, options.tta, thresholdOptions), validationScored), source: 'out-of-fold' as const }
    : { ...calibrate(validationScored, options.tta, thresholdOptions), source: 'validation' as const };
  const cv = options.crossValidation;
  // The features are the quantised network's, as the Worker computes them.
  const features = {
    train: await featuresServed(quantModel, trainImages, params, raw),
    labels: trainImages.map((im) => im.label),
    validation: await featuresServed(quantModel, valImages, params, raw),
  };
  const domain = fitDomainProfile(trainImages.map((im) => im.domain), valImages.map((im) => im.domain), undefined, features);
  const { size } = features.validation;
  const validationOutOfDomain = valImages.filter((im, i) => isOutOfDomain(domainScore(im.domain, domain, features.validation.values.subarray(i * size, (i + 1) * size)))).length / Math.max(valImages.length, 1);
  reporter.info(`domain profile: ${(100 * validationOutOfDomain).toFixed(1)}% of validation photos out of domain (margin ${domain.margin}, distance ${domain.distance}, feature distance ${domain.features.distance})`);
  const inference = { tta: options.tta, temperature: calibration.temperature, reviewThreshold: calibration.threshold };
  const manifest: Omit<Manifest, 'files'> = {
    format: 'cellsense-model/1',
    name: options.name || path.basename(path.resolve(options.data)),
    version: options.version,
    createdAt: new Date().toISOString(),
    classes: scan.classes,
    input: { height: inputSize, width: inputSize, channels: 3 },
    preprocessing: params,
    quantization: { dtype: options.quantize, weightBytes: modelBytes },
    metrics: {
      validation: { ...q, accuracyFloat: floatEval.evaluation.accuracy, accuracyQuantized: q.accuracy },
      split: { method: options.groupPattern ? 'pattern' : 'content', description: splitDescription, groups: groupCount, trainImages: trainImages.length, validationImages: valImages.length },
      calibration: {
        source: calibration.source, eceBefore: calibration.eceBefore, eceAfter: calibration.eceAfter, coverage: calibration.coverage, accuracyAboveThreshold: calibration.accuracyAboveThreshold,
        ...(calibration.servedValidation ? { servedValidation: calibration.servedValidation } : {}),
      },
      ...(cv ? { crossValidation: { folds: cv.folds, accuracy: cv.accuracy, macroF1: cv.macroF1, perClass: meanPerClass(cv) } } : {}),
      domain: { validationOutOfDomain },
    },
    inference,
    domain,
    selfTest: await recordSelfTest(quantModel),
    pixelTest: await recordPixelTest(quantModel, params, scan.classes, inference, domain),
    training: {
      arch: options.arch, epochs: options.epochs, epochsRun: loop.history.length, bestEpoch: loop.bestEpoch, keepEpoch: options.keepEpoch ?? 'best', seed: options.seed,
      backend: backend.name, ...(backend.kernels ? { kernels: backend.kernels } : {}), durationMs: loop.elapsedMs, datasetFingerprint: dataset.fingerprint, images: dataset.images.length,
      imagesSkipped: dataset.skipped.length, skipped: dataset.skipped, command: options.command,
    },
  };
  const mistakes = await confidentMistakes(options.data, valImages, quantEval.probabilities, quantEval.predicted, scan.classes);
  const perClass = (count: (k: number) => number) => Object.fromEntries(scan.classes.map((c, k) => [c, count(k)]));
  const written = await finishVersion(staging, finalDir, manifest, [MODEL_FILE, WEIGHTS_FILE], {
    history: loop.history,
    floatEvaluation: floatEval.evaluation,
    quantizedEvaluation: q,
    dataset: {
      root: options.data, classes: scan.classes,
      imagesPerClass: perClass((k) => labels.filter((l) => l === k).length),
      groupsPerClass: perClass((k) => new Set(groups.filter((_, i) => labels[i] === k)).size),
      trainImages: trainImages.length, validationImages: valImages.length, splitDescription, skipped: dataset.skipped,
    },
    mistakes, parameters: parameterCount(model), modelBytes, calibration, crossValidation: cv,
  });
  await checkpoint.remove();
  model.dispose();
  quantModel.dispose();
  return written;
}
