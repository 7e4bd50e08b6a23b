import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { repoRoot } from '../../trainer/cli-options.ts';
import { Reporter } from '../../trainer/progress.ts';
import { addRecipeFlags, recipeFrom } from '../../trainer/training/recipe.ts';
import { architectures } from '../../trainer/training/architectures.ts';
import { loadGrouped } from '../../trainer/data/grouped-dataset.ts';
import type { EpochRecord } from '../../trainer/report/types.ts';
import { train } from '../../trainer/training/train.ts';

/** The blood-cell training folder next to the repository, when the shared data is there. */
export const defaultEpochData = path.resolve(repoRoot, '..', 'shared', 'data', 'blood-cells', 'TRAIN');

export interface EpochBench {
  data: string;
  arch: string;
  backend: string;
  trainImages: number;
  validationImages: number;
  /** Scan, cached-pixel load and grouping, up to the split. */
  loadMs: number;
  /** The epoch as `npm run train` reports it: training plus validation. */
  epochMs: number;
  /** Training images / epoch time: batch preparation, augmentation and validation included. */
  epochImagesPerSecond: number;
  /** The whole `train` call: load, epoch, quantised export, evaluation, report. */
  totalMs: number;
  /** Peak resident memory of this process (worker threads included) after the run. */
  peakRssMB: number;
}

/** Notes when loading ends and the epoch starts and ends, printing nothing. */
class TimingReporter extends Reporter {
  loaded = 0;
  epochStarted = 0;
  record?: EpochRecord;

  constructor(private readonly log?: (line: string) => void) {
    super('quiet');
  }

  override info(message: string): void {
    if (message.startsWith('split:') && !this.loaded) this.loaded = performance.now();
    this.log?.(message);
  }

  override epochStart(): void {
    this.epochStarted = performance.now();
  }

  override epochEnd(record: EpochRecord): void {
    this.record = record;
  }
}

/**
 * One epoch of `npm run train` with its default flags over `data`, timed from the call: the pixel
 * cache is warmed by a load beforehand, so the figure is the warm-cache one a second run sees.
 */
export async function runEpochBench(data: string, log?: (line: string) => void): Promise<EpochBench | { skipped: string }> {
  if (!existsSync(data)) return { skipped: `${data} not found (the blood-cell TRAIN folder); pass --data DIR` };
  const recipe = recipeFrom(addRecipeFlags(new Command()).exitOverride().parse(['--data', data, '--epochs', '1'], { from: 'user' }).opts());
  log?.(`epoch bench: warming the pixel cache for ${data}`);
  await loadGrouped(recipe, recipe.inputSize ?? architectures[recipe.arch].defaultInputSize, new Reporter('quiet'));
  const out = await mkdtemp(path.join(tmpdir(), 'cellsense-epoch-bench-'));
  const reporter = new TimingReporter(log);
  const started = performance.now();
  try {
    const manifest = await train({ ...recipe, out, version: 'bench', resume: false, allowQuantDrop: true, command: 'npm run bench -- train' }, reporter);
    const totalMs = performance.now() - started;
    const record = reporter.record!;
    const trainImages = manifest.metrics.split.trainImages;
    return {
      data, arch: manifest.training.arch, backend: manifest.training.backend, trainImages,
      validationImages: manifest.metrics.split.validationImages,
      loadMs: reporter.loaded - started, epochMs: record.durationMs,
      epochImagesPerSecond: (trainImages * 1000) / record.durationMs,
      totalMs, peakRssMB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
