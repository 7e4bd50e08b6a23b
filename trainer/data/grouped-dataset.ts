import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultPreprocessing, type PreprocessingParams } from '../../shared/index.ts';
import { loadDataset, type LoadedDataset, type LoadedImage } from './dataset-load.ts';
import { scanDataset } from './dataset-scan.ts';
import { CONTENT_METHOD, groupByContent, type ContentGrouping } from '../grouping/content.ts';
import { groupByPattern } from '../grouping/pattern.ts';
import type { Reporter } from '../progress.ts';
import type { TrainOptions } from '../training/train.ts';

/** What `train` and `cv` both start from: the decoded dataset and each image's source group. */
export async function loadGrouped(options: Pick<TrainOptions, 'data' | 'crop' | 'cellScale' | 'jpegScale' | 'cacheDir' | 'groupPattern' | 'groupThreshold'>, inputSize: number, reporter: Reporter) {
  const scan = await scanDataset(options.data);
  const base = defaultPreprocessing(inputSize, options.crop, options.jpegScale);
  const params = base.version === 3 && options.cellScale ? { ...base, cellScale: options.cellScale } : base;
  reporter.info(`dataset ${options.data}: ${scan.files.length} files in ${scan.classes.length} classes (${scan.classes.join(', ')})`);
  const dataset = await loadDataset(scan, params, { cacheDir: options.cacheDir, onProgress: (done, total) => reporter.progress('reading', done, total) });
  for (const s of dataset.skipped) reporter.warn(`skipped ${path.join(options.data, s.path)}: ${s.reason}`);
  const labels = dataset.images.map((im) => im.label);
  const groups = options.groupPattern
    ? groupByPattern(dataset.images.map((im) => im.path), labels, new RegExp(options.groupPattern))
    : (await cachedContentGroups(dataset, options.groupThreshold, options.cacheDir, reporter)).groups;
  return { scan, dataset, labels, groups, params };
}

/**
 * Content grouping of a loaded dataset, kept on disk beside the pixel cache: comparing every
 * pair of images in a class takes a minute or two on a large dataset, and `train`, `cv` and
 * each of its fold processes would otherwise all pay for it.
 */
export async function cachedContentGroups(dataset: LoadedDataset, threshold: number, cacheDir: string, reporter: Reporter): Promise<ContentGrouping> {
  const key = createHash('sha256').update(JSON.stringify([dataset.fingerprint, CONTENT_METHOD, threshold, 'v1'])).digest('hex').slice(0, 16);
  const file = path.join(cacheDir, 'groups', `${key}.json`);
  const cached = await readFile(file, 'utf8').then((t) => JSON.parse(t) as ContentGrouping, () => null);
  if (cached?.groups?.length === dataset.images.length) return cached;
  reporter.info(`grouping ${dataset.images.length} images by content (copies of one photo together); cached for later runs`);
  const grouping = groupByContent(dataset.images.map((im) => im.descriptor), dataset.images.map((im) => im.label), {
    threshold,
    onProgress: (done, total) => reporter.progress('grouping', done, total),
  });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(grouping));
  return grouping;
}

/** Mean and standard deviation per channel on the 0..1 scale, over the training images. */
export function channelStats(images: LoadedImage[]): Pick<PreprocessingParams, 'mean' | 'std'> {
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

