import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DatasetError } from '../errors.ts';

/** File types the trainer decodes; anything else in a class folder is ignored. */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

interface ScannedFile {
  /** Path relative to the dataset root, with `/` separators, e.g. `MONOCYTE/_3_120.jpeg`. */
  path: string;
  label: number;
}

export interface ScannedDataset {
  root: string;
  classes: string[];
  files: ScannedFile[];
}

/**
 * Lists a folder-per-class dataset: class names are the sorted sub-folder names (so the
 * output order is stable across machines), files are those with an image extension.
 * Every structural problem is a DatasetError naming the path and the fix.
 */
export async function scanDataset(root: string): Promise<ScannedDataset> {
  const info = await stat(root).catch(() => null);
  if (!info) {
    throw new DatasetError(`dataset folder ${root} does not exist: pass --data with a folder holding one sub-folder per class`);
  }
  if (!info.isDirectory()) {
    throw new DatasetError(`${root} is a file, not a folder: pass --data with a folder holding one sub-folder per class`);
  }
  const entries = await readdir(root, { withFileTypes: true });
  const classes = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (classes.length < 2) {
    const found = classes.length ? `only one class folder (${classes[0]})` : 'no class folders';
    throw new DatasetError(
      `dataset folder ${root} has ${found}: it needs at least 2 sub-folders, one per class, each holding that class's images`,
    );
  }
  const files: ScannedFile[] = [];
  for (const [label, name] of classes.entries()) {
    const dir = path.join(root, name);
    const names = (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    if (names.length < 2) {
      throw new DatasetError(
        `class folder ${dir} has ${names.length} image${names.length === 1 ? '' : 's'}: each class needs at least 2 (JPEG, PNG or WebP); add images or remove the folder`,
      );
    }
    for (const n of names) files.push({ path: `${name}/${n}`, label });
  }
  return { root, classes, files };
}
