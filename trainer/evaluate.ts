import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseManifest, type Evaluation, type Manifest } from '../shared/index.ts';
import { setupBackend, type BackendChoice } from './backend.ts';
import { loadDataset } from './dataset-load.ts';
import { scanDataset } from './dataset-scan.ts';
import { ModelError } from './errors.ts';
import { evaluateModel } from './evaluation.ts';
import { loadModel } from './model-io.ts';
import type { Reporter } from './progress.ts';
import { describeFiles, MANIFEST_FILE } from './version-writer.ts';

export interface EvaluateOptions {
  model: string;
  data: string;
  backend: BackendChoice;
  cacheDir: string;
}

/**
 * Reads a version's manifest and checks every file it lists against its size and
 * sha256, so a damaged or edited version is never evaluated as if it were the original.
 */
export async function readVerifiedManifest(dir: string): Promise<Manifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new ModelError(`cannot use ${file}: ${(err as Error).message.split('\n')[0]}; pass --model with a version folder written by \`npm run train\``);
  }
  const actual = await describeFiles(dir, manifest.files.map((f) => f.path)).catch((err: Error) => {
    throw new ModelError(`model version ${dir} is incomplete: ${err.message.split('\n')[0]}`);
  });
  manifest.files.forEach((f, i) => {
    if (actual[i].sha256 !== f.sha256 || actual[i].bytes !== f.bytes) {
      throw new ModelError(`${path.join(dir, f.path)} does not match its sha256 in ${file}: the version is damaged; copy it again from where it was trained or published`);
    }
  });
  return manifest;
}

/** The repository's default model: the single (or newest) version folder under `modelsDir`. */
export async function defaultModelDir(modelsDir: string): Promise<string> {
  const entries = await readdir(modelsDir, { withFileTypes: true }).catch(() => []);
  const versions = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
  if (!versions.length) throw new ModelError(`no model version under ${modelsDir}: pass --model DIR, or train one with \`npm run train\``);
  return path.join(modelsDir, versions[versions.length - 1]);
}

/** Scores a model version on a labelled folder with the version's own preprocessing. */
export async function evaluate(options: EvaluateOptions, reporter: Reporter): Promise<Evaluation> {
  const manifest = await readVerifiedManifest(options.model);
  const scan = await scanDataset(options.data);
  const unknown = scan.classes.filter((c) => !manifest.classes.includes(c));
  if (unknown.length) {
    throw new ModelError(
      `class folder(s) ${unknown.map((c) => path.join(options.data, c)).join(', ')} are not classes of model ${manifest.version} (${manifest.classes.join(', ')}): rename or remove them`,
    );
  }
  await setupBackend(options.backend);
  const dataset = await loadDataset(scan, manifest.preprocessing, { cacheDir: options.cacheDir });
  for (const s of dataset.skipped) reporter.warn(`skipped ${path.join(options.data, s.path)}: ${s.reason}`);
  // Folder labels are indices into the folder list; the model's output order is the manifest's.
  const examples = dataset.images.map((im) => ({ pixels: im.pixels, label: manifest.classes.indexOf(scan.classes[im.label]) }));
  const model = await loadModel(options.model);
  const { evaluation } = await evaluateModel(model, examples, manifest.preprocessing, manifest.classes, manifest.inference);
  model.dispose();
  return evaluation;
}
