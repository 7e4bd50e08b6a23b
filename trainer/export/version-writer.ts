import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { formatManifest, MANIFEST_FILE, REPORT_FILE, sha256Hex, type FileEntry, type Manifest } from '../../shared/index.ts';
import type { Example } from '../data/batches.ts';
import { ModelError } from '../errors.ts';
import { renderReport } from '../report/render-report.ts';
import type { Mistake, ReportData } from '../report/types.ts';

/** Refuses to overwrite a stored version: nothing already written is lost. */
export async function assertVersionFree(dir: string): Promise<void> {
  if (await stat(dir).catch(() => null)) {
    throw new ModelError(`model version folder ${dir} already exists: pass another --version, or move that folder away first`);
  }
}

/** Size and sha256 of each named file in `dir`, for the manifest's `files`. */
async function describeFiles(dir: string, names: string[]): Promise<FileEntry[]> {
  return Promise.all(
    names.map(async (name) => {
      const bytes = await readFile(path.join(dir, name));
      return { path: name, bytes: bytes.length, sha256: await sha256Hex(new Uint8Array(bytes)) };
    }),
  );
}

/**
 * The validation images the model got wrong with the highest confidence, with small
 * thumbnails of the original photos for the report.
 */
export async function confidentMistakes(
  root: string,
  examples: (Example & { path: string })[],
  probabilities: Float32Array,
  predicted: number[],
  classes: string[],
  limit = 12,
): Promise<Mistake[]> {
  const k = classes.length;
  const wrong = examples
    .map((ex, i) => ({ ex, i, p: probabilities[i * k + predicted[i]] }))
    .filter(({ ex, i }) => predicted[i] !== ex.label)
    .sort((a, b) => b.p - a.p)
    .slice(0, limit);
  return Promise.all(
    wrong.map(async ({ ex, i, p }) => ({
      path: ex.path,
      trueLabel: classes[ex.label],
      predictedLabel: classes[predicted[i]],
      probability: p,
      thumbnailPng: new Uint8Array(await sharp(path.join(root, ex.path)).rotate().resize(128, 96, { fit: 'inside' }).png().toBuffer()),
    })),
  );
}

/**
 * Completes a version written in `stagingDir` (which holds model.json and weights):
 * writes the report, then the manifest with every other file's sha256, then moves the
 * folder to `finalDir` in one rename so a half-written version is never visible.
 */
export async function finishVersion(
  stagingDir: string,
  finalDir: string,
  manifest: Omit<Manifest, 'files'>,
  modelFiles: string[],
  report: Omit<ReportData, 'manifest'>,
): Promise<Manifest> {
  const modelOnly = await describeFiles(stagingDir, modelFiles);
  const draft: Manifest = { ...manifest, files: modelOnly };
  await writeFile(path.join(stagingDir, REPORT_FILE), renderReport({ ...report, manifest: draft }));
  const full: Manifest = { ...manifest, files: await describeFiles(stagingDir, [...modelFiles, REPORT_FILE]) };
  await writeFile(path.join(stagingDir, MANIFEST_FILE), formatManifest(full));
  await assertVersionFree(finalDir);
  await rename(stagingDir, finalDir);
  return full;
}

export async function discardStaging(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
