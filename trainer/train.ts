import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { defaultPreprocessing, type Manifest, type PreprocessingParams, type QuantizationDtype } from '../shared/index.ts';
import { defaultAugment, noAugment } from './augment.ts';
import { setupBackend, type BackendChoice } from './backend.ts';
import { Checkpoint } from './checkpoint.ts';
import { loadDataset, type LoadedImage } from './dataset-load.ts';
import { scanDataset } from './dataset-scan.ts';
import { FlagError, InterruptedError, QuantizationError } from './errors.ts';
import { evaluateModel } from './evaluation.ts';
import { groupByPattern, groupBySimilarity } from './grouping.ts';
import { loadModel, MODEL_FILE, saveModel, WEIGHTS_FILE } from './model-io.ts';
import { architectures, parameterCount } from './models.ts';
import type { Reporter } from './progress.ts';
import { groupedSplit } from './split.ts';
import { trainLoop } from './train-loop.ts';
import { assertVersionFree, confidentMistakes, discardStaging, finishVersion } from './version-writer.ts';

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
  groupPattern?: string;
  groupThreshold: number;
  validationFraction: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  augment: boolean;
  allowQuantDrop: boolean;
  cacheDir: string;
  command: string;
  shouldStop?: () => boolean;
}

/** Mean and standard deviation per channel on the 0..1 scale, over the training images. */
function channelStats(images: LoadedImage[]): Pick<PreprocessingParams, 'mean' | 'std'> {
  const sum = [0, 0, 0], sq = [0, 0, 0];
  let n = 0;
  for (const { pixels } of images) {
    for (let i = 0; i < pixels.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        const v = pixels[i + c] / 255;
        sum[c] += v;
        sq[c] += v * v;
      }
    }
    n += pixels.length / 3;
  }
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const mean = sum.map((s) => round(s / n)) as [number, number, number];
  const std = sq.map((s, c) => round(Math.max(Math.sqrt(s / n - (sum[c] / n) ** 2), 1e-3))) as [number, number, number];
  return { mean, std };
}

/** The whole training run: dataset to a finished, evaluated, quantised model version. */
export async function train(options: TrainOptions, reporter: Reporter): Promise<Manifest> {
  const arch = architectures[options.arch];
  if (!arch) throw new FlagError('arch', options.arch, `use one of ${Object.keys(architectures).join(', ')}`);
  const inputSize = options.inputSize ?? arch.defaultInputSize;
  const finalDir = path.join(options.out, options.version);
  await assertVersionFree(finalDir);

  const scan = await scanDataset(options.data);
  let params = defaultPreprocessing(inputSize, options.crop);
  reporter.info(`dataset ${options.data}: ${scan.files.length} files in ${scan.classes.length} classes (${scan.classes.join(', ')})`);
  const dataset = await loadDataset(scan, params, { cacheDir: options.cacheDir });
  for (const s of dataset.skipped) reporter.warn(`skipped ${path.join(options.data, s.path)}: ${s.reason}`);

  const labels = dataset.images.map((im) => im.label);
  const groups = options.groupPattern
    ? groupByPattern(dataset.images.map((im) => im.path), labels, new RegExp(options.groupPattern))
    : groupBySimilarity(dataset.images.map((im) => im.descriptor), labels, options.groupThreshold);
  const groupCount = new Set(groups).size;
  const split = groupedSplit(labels, groups, options.validationFraction, options.seed);
  const splitDescription = options.groupPattern
    ? `grouped by file-name pattern /${options.groupPattern}/ (${groupCount} groups): no group has images on both sides`
    : `grouped by image similarity (colour and stain-shape fingerprint, threshold ${options.groupThreshold}; ${groupCount} groups): approximate, heavily augmented copies of one photo can still straddle the split; pass --group-pattern when file names carry the source photo`;
  const trainImages = split.train.map((i) => dataset.images[i]);
  const valImages = split.validation.map((i) => dataset.images[i]);
  params = { ...params, ...channelStats(trainImages) };
  reporter.info(`split: ${trainImages.length} train / ${valImages.length} validation, ${splitDescription}`);

  const backend = await setupBackend(options.backend);
  reporter.info(`backend: ${backend.name} (${backend.reason})`);
  const model = arch.build({ inputSize, classCount: scan.classes.length, seed: options.seed });
  const runKey = createHash('sha256')
    .update(JSON.stringify([dataset.fingerprint, params, options.arch, options.seed, options.batchSize, options.learningRate, options.groupPattern ?? options.groupThreshold, options.augment, backend.name]))
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
    seed: options.seed,
    patience: options.patience,
    learningRate: options.learningRate,
    augment: options.augment ? defaultAugment : noAugment,
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

  const floatEval = await evaluateModel(model, valImages, params, scan.classes);
  const staging = path.join(options.out, `.${options.version}.partial`);
  await discardStaging(staging);
  const modelBytes = await saveModel(model, staging, options.quantize);
  const quantModel = await loadModel(staging);
  const quantEval = await evaluateModel(quantModel, valImages, params, scan.classes);
  const drop = floatEval.evaluation.accuracy - quantEval.evaluation.accuracy;
  if (drop > 0.01 && !options.allowQuantDrop) {
    await discardStaging(staging);
    throw new QuantizationError(
      `quantising to ${options.quantize} cost ${(100 * drop).toFixed(1)} points of validation accuracy (float ${(100 * floatEval.evaluation.accuracy).toFixed(1)}%, quantised ${(100 * quantEval.evaluation.accuracy).toFixed(1)}%), more than 1 point: use --quantize uint16 or float16, or pass --allow-quant-drop to keep it`,
    );
  }
  const q = quantEval.evaluation;
  const manifest: Omit<Manifest, 'files'> = {
    format: 'cellsense-model/1',
    name: path.basename(path.resolve(options.data)),
    version: options.version,
    createdAt: new Date().toISOString(),
    classes: scan.classes,
    input: { height: inputSize, width: inputSize, channels: 3 },
    preprocessing: params,
    quantization: { dtype: options.quantize, weightBytes: modelBytes },
    metrics: {
      validation: { ...q, accuracyFloat: floatEval.evaluation.accuracy, accuracyQuantized: q.accuracy },
      split: { method: options.groupPattern ? 'pattern' : 'similarity', description: splitDescription, groups: groupCount, trainImages: trainImages.length, validationImages: valImages.length },
    },
    training: {
      arch: options.arch, epochs: options.epochs, epochsRun: loop.history.length, bestEpoch: loop.bestEpoch, seed: options.seed,
      backend: backend.name, durationMs: loop.elapsedMs, datasetFingerprint: dataset.fingerprint, images: dataset.images.length,
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
    mistakes, parameters: parameterCount(model), modelBytes,
  });
  await checkpoint.remove();
  model.dispose();
  quantModel.dispose();
  return written;
}
