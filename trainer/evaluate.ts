import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { domainScore, isOutOfDomain, parseManifest, type Evaluation, type Manifest } from '../shared/index.ts';
import { setupBackend, type BackendChoice } from './backend.ts';
import { reliability } from './calibration.ts';
import { loadDataset } from './dataset-load.ts';
import { scanDataset } from './dataset-scan.ts';
import { FlagError, ModelError, UserError } from './errors.ts';
import { evaluateModel } from './evaluation.ts';
import { loadModel } from './model-io.ts';
import type { Reporter } from './progress.ts';
import { predictionsCsv, reviewSummary, type PredictionRow, type ReviewSummary } from './review-summary.ts';
import { describeFiles, MANIFEST_FILE } from './version-writer.ts';

export interface EvaluateOptions {
  model: string;
  data: string;
  backend: BackendChoice;
  cacheDir: string;
}

export interface EvaluateResult {
  evaluation: Evaluation;
  /** Expected calibration error (15 bins) of the probabilities as served. */
  ece: number;
  review: ReviewSummary;
  /** Share of the photos the version's domain profile calls out of domain; null without a profile. */
  outOfDomain: number | null;
  predictions: PredictionRow[];
}


/** Writes `--predictions`: one CSV row per evaluated image, with the served probabilities. */
export async function writePredictions(file: string, classes: string[], result: EvaluateResult): Promise<void> {
  await writeFile(file, predictionsCsv(classes, result.predictions, result.review.threshold)).catch((err: Error) => {
    throw new UserError(`cannot write --predictions ${file}: ${err.message.split('\n')[0]}`);
  });
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

/**
 * Scores a model version on a labelled folder with the version's own preprocessing and
 * inference policy, and scores its review flag the way the Worker would raise it.
 */
export async function evaluate(options: EvaluateOptions, reporter: Reporter): Promise<EvaluateResult> {
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
  const { evaluation, probabilities } = await evaluateModel(model, examples, manifest.preprocessing, manifest.classes, manifest.inference);
  model.dispose();
  const k = manifest.classes.length;
  const scored = { probabilities, labels: examples.map((e) => e.label), classCount: k };
  const profile = manifest.domain;
  const outside = dataset.images.map((im) => (profile ? isOutOfDomain(domainScore(im.domain, profile)) : null));
  return {
    evaluation,
    // predictServed has applied the temperature already: score them as they are.
    ece: reliability(scored, 1, 15).ece,
    review: reviewSummary(scored, manifest.inference?.reviewThreshold ?? 0),
    outOfDomain: profile ? outside.filter(Boolean).length / Math.max(outside.length, 1) : null,
    predictions: dataset.images.map((im, i) => ({ path: im.path, label: examples[i].label, probabilities: probabilities.subarray(i * k, (i + 1) * k), outOfDomain: outside[i] })),
  };
}
