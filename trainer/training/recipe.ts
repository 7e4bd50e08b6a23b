import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { backendChoices } from './backend.ts';
import { choiceFlag, defaultCacheDir, defaultDataDir, intFlag, numberFlag, quantizeFlag, regexFlag } from '../cli-options.ts';
import { FlagError } from '../errors.ts';
import { DEFAULT_CELL_SCALE } from '../../shared/index.ts';
import { DEFAULT_GROUP_THRESHOLD } from '../grouping/content.ts';
import { architectures, DEFAULT_ARCH } from './architectures.ts';
import type { CrossValidationReport } from '../report/types.ts';
import type { TrainOptions } from './train.ts';

/** The flags that define a training recipe: shared by `train` and `cv`, so both run the same one. */
export function addRecipeFlags(command: Command): Command {
  return command
    .option('--data <dir>', 'dataset folder: one sub-folder of JPEG/PNG/WebP images per class', defaultDataDir)
    .option('--epochs <n>', 'maximum epochs (early stopping may end sooner)', intFlag('epochs', 1, 10000), 30)
    .option('--seed <n>', 'random seed: split, initial weights, shuffling, augmentation', intFlag('seed', 0), 42)
    .addOption(new Option('--arch <name>', Object.entries(architectures).map(([k, a]) => `${k}: ${a.description}`).join('; ')).default(DEFAULT_ARCH).argParser(choiceFlag('arch', Object.keys(architectures))))
    .option('--input-size <n>', "model input side in pixels (default: the architecture's)", intFlag('input-size', 16, 512))
    .option('--quantize <dtype>', 'weight storage: uint8, uint16, float16 or none', quantizeFlag, 'uint8')
    .option('--backend <name>', 'auto (tfjs-node if installed, else wasm), wasm, node or cpu', choiceFlag('backend', backendChoices), 'auto')
    .option('--crop <mode>', 'full: whole photo; stain: square window of a share of the frame, centred on the stained cell; cell: square window sized from the stained cell itself, so framing and resolution do not change it', choiceFlag('crop', ['full', 'stain', 'cell'] as const), 'full')
    .option('--cell-scale <radii>', 'cell crop: side of the window in radii of the stained cell (the cell is about 4 across)', numberFlag('cell-scale', 2, 64), DEFAULT_CELL_SCALE)
    .option('--jpeg-scale <mode>', 'full: decode every JPEG pixel; reduced: decode at 1/2, 1/4 or 1/8 scale when the crop still covers the input (the Worker decodes faster; check its accuracy with npm run cv)', choiceFlag('jpeg-scale', ['full', 'reduced'] as const), 'full')
    .option('--group-pattern <regex>', 'group copies of one photo by file name (first capture group), only when names really carry the source photo; default: by content (npm run groups shows the groups)', regexFlag)
    .option('--group-threshold <d>', 'content grouping: distance under which clusters of images count as one photo (lower splits more, which can leak copies across the split)', numberFlag('group-threshold', 0, 10), DEFAULT_GROUP_THRESHOLD)
    .option('--validation <fraction>', 'share of each class held out for validation, by whole groups', numberFlag('validation', 0.05, 0.5), 0.2)
    .option('--batch-size <n>', 'images per training step', intFlag('batch-size', 1, 1024), 32)
    .option('--workers <n>', 'threads that train in parallel, each on a share of every batch (wasm backend; default: one per core, up to 4); results depend on it slightly, so keep it fixed to reproduce a run', intFlag('workers', 1, 64))
    .option('--learning-rate <lr>', 'Adam learning rate (the peak, with --schedule cosine)', numberFlag('learning-rate', 1e-6, 1), 0.002)
    .option('--schedule <name>', 'learning-rate schedule: cosine (warm-up, then decay over --epochs) or constant', choiceFlag('schedule', ['cosine', 'constant'] as const), 'cosine')
    .option('--label-smoothing <s>', 'share of each target spread over all classes (0 to 0.3)', numberFlag('label-smoothing', 0, 0.3), 0)
    .option('--per-class <n>', 'images drawn per class each epoch, evenly over its source groups (0: every image once)', intFlag('per-class', 0), 0)
    .option('--patience <n>', 'stop after this many epochs without a better validation loss', intFlag('patience', 1, 1000), 5)
    .option('--keep-epoch <which>', 'weights the model ends with: best (lowest validation loss) or last (the end of the schedule; steadier when the validation split holds few source photos)', choiceFlag('keep-epoch', ['best', 'last'] as const), 'best')
    .option('--no-augment', 'turn off flips, turns, zoom and colour/brightness jitter')
    .option('--zoom <z>', 'scale augmentation: the cell drawn up to 1+z times larger or smaller (0 turns it off)', numberFlag('zoom', 0, 1), 0.15)
    .option('--no-rotate', 'turn cells by quarter turns only, not by any angle')
    .option('--stain-jitter <s>', 'stain augmentation: each stain\'s amount scaled by up to 1 +- s and shifted by up to s in optical density (0 turns it off)', numberFlag('stain-jitter', 0, 0.5), 0)
    .option('--hue-jitter <degrees>', 'hue augmentation: colours turned about the grey axis by up to +- this many degrees (0 turns it off)', numberFlag('hue-jitter', 0, 90), 0)
    .option('--erase <p>', 'random erasing: the chance that a rectangle of 2% to 20% of each training image is filled with noise (0 turns it off)', numberFlag('erase', 0, 1), 0)
    .option('--mixup <alpha>', 'mixup: each training image blended with another by a share drawn from Beta(alpha, alpha), its label alike (0 turns it off; 0.2 to 0.4 is usual)', numberFlag('mixup', 0, 10), 0)
    .option('--tta <mode>', 'test-time averaging: none, or dihedral8 (the 8 flips/turns of each cell, also in the Worker)', choiceFlag('tta', ['none', 'dihedral8'] as const), 'none')
    .option('--target-accuracy <a>', 'accuracy wanted above the review threshold', numberFlag('target-accuracy', 0.5, 1), 0.97)
    .option('--min-coverage <c>', 'least share of cells that should stay above the review threshold', numberFlag('min-coverage', 0, 1), 0.9)
    .option('--cache-dir <dir>', 'where decoded, resized pixels are cached', defaultCacheDir)
    .option('--quiet', 'print only errors and the final summary', false)
    .option('--verbose', 'print stack traces of errors', false);
}

type Recipe = Omit<TrainOptions, 'out' | 'version' | 'name' | 'resume' | 'allowQuantDrop' | 'command' | 'crossValidation' | 'shouldStop'> & {
  /** Data-parallel replicas for the training loop (LoopOptions.workers); undefined: its default. */
  workers?: number;
};

/** The recipe part of `TrainOptions` from parsed flags. */
export function recipeFrom(o: Record<string, never>): Recipe {
  return {
    data: o.data, epochs: o.epochs, seed: o.seed, arch: o.arch, inputSize: o.inputSize, quantize: o.quantize, backend: o.backend,
    crop: o.crop, cellScale: o.cellScale, jpegScale: o.jpegScale, groupPattern: o.groupPattern, groupThreshold: o.groupThreshold, validationFraction: o.validation,
    batchSize: o.batchSize, workers: o.workers, learningRate: o.learningRate, schedule: o.schedule, labelSmoothing: o.labelSmoothing,
    perClass: o.perClass, patience: o.patience, keepEpoch: o.keepEpoch, augment: o.augment, zoom: o.zoom, rotate: o.rotate, stainJitter: o.stainJitter, hueJitter: o.hueJitter, mixup: o.mixup, erase: o.erase, tta: o.tta, targetAccuracy: o.targetAccuracy,
    minCoverage: o.minCoverage, cacheDir: o.cacheDir,
  };
}

/** Reads a cross-validation result file for `--cv-results`. */
export async function readCrossValidation(file: string): Promise<CrossValidationReport> {
  let parsed: CrossValidationReport;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as CrossValidationReport;
  } catch (err) {
    throw new FlagError('cv-results', file, `it is not a readable JSON file (${(err as Error).message}); write one with \`npm run cv -- --json-out ${file}\``);
  }
  if (typeof parsed?.folds !== 'number' || !parsed.accuracy || !parsed.perClass) {
    throw new FlagError('cv-results', file, 'it does not hold cross-validation results; write one with `npm run cv -- --json-out FILE`');
  }
  return parsed;
}
