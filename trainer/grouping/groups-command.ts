import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultPreprocessing } from '../../shared/index.ts';
import { loadDataset } from '../data/dataset-load.ts';
import { scanDataset } from '../data/dataset-scan.ts';
import { FlagError } from '../errors.ts';
import type { Reporter } from '../progress.ts';
import { cachedContentGroups } from '../data/grouped-dataset.ts';
import { CONTENT_METHOD } from './content.ts';
import { renderContactSheet } from './contact-sheet.ts';

interface GroupsOptions {
  data: string;
  threshold: number;
  cacheDir: string;
  /** Write a contact sheet (HTML) here. */
  sheet?: string;
}

interface GroupsSummary {
  method: string;
  threshold: number;
  classes: Record<string, { images: number; groups: number; sizes: number[] }>;
}

/** `npm run groups`: the source groups content grouping finds in a dataset, per class. */
export async function runGroups(options: GroupsOptions, reporter: Reporter): Promise<GroupsSummary> {
  const scan = await scanDataset(options.data);
  reporter.info(`dataset ${options.data}: ${scan.files.length} files in ${scan.classes.length} classes`);
  // Any preprocessing will do: the grouping descriptor is cached beside it and does not depend on it.
  const dataset = await loadDataset(scan, defaultPreprocessing(64, 'stain', 'reduced'), {
    cacheDir: options.cacheDir,
    onProgress: (done, total) => reporter.progress('reading', done, total),
  });
  for (const s of dataset.skipped) reporter.warn(`skipped ${path.join(options.data, s.path)}: ${s.reason}`);
  const grouping = await cachedContentGroups(dataset, options.threshold, options.cacheDir, reporter);
  const classes: GroupsSummary['classes'] = {};
  scan.classes.forEach((name, label) => {
    const sizes = new Map<number, number>();
    dataset.images.forEach((im, i) => im.label === label && sizes.set(grouping.groups[i], (sizes.get(grouping.groups[i]) ?? 0) + 1));
    const list = [...sizes.values()].sort((a, b) => b - a);
    classes[name] = { images: list.reduce((a, b) => a + b, 0), groups: list.length, sizes: list };
  });
  if (options.sheet) {
    const page = await renderContactSheet({
      root: options.data, method: CONTENT_METHOD, classes: scan.classes,
      images: dataset.images.map((im) => ({ path: im.path, label: im.label })), groups: grouping.groups, closestApart: grouping.closestApart,
    });
    await writeFile(options.sheet, page).catch((err: Error) => {
      throw new FlagError('sheet', options.sheet!, `it cannot be written (${err.message.split('\n')[0]}); give a file in a folder that exists`);
    });
    reporter.info(`contact sheet written to ${options.sheet}`);
  }
  return { method: CONTENT_METHOD, threshold: options.threshold, classes };
}

/** The summary as a table: per class, images, groups and the spread of group sizes. */
export function formatGroups(summary: GroupsSummary): string {
  const width = Math.max(8, ...Object.keys(summary.classes).map((c) => c.length)) + 2;
  const lines = [`method: ${summary.method}, threshold ${summary.threshold}`, '', `${'class'.padEnd(width)}  images  groups  sizes (largest .. smallest)`];
  for (const [name, c] of Object.entries(summary.classes)) {
    const shown = c.sizes.length > 12 ? [...c.sizes.slice(0, 6), '..', ...c.sizes.slice(-6)] : c.sizes;
    lines.push(`${name.padEnd(width)}  ${String(c.images).padStart(6)}  ${String(c.groups).padStart(6)}  ${shown.join(' ')}`);
  }
  return lines.join('\n');
}
