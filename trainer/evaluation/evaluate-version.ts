import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { domainScore, isOutOfDomain, needsFeatures, type Evaluation } from '../../shared/index.ts';
import { featuresServed } from '../training/forward.ts';
import { setupBackend, type BackendChoice } from '../training/backend.ts';
import { reliability } from './calibration.ts';
import { loadDataset } from '../data/dataset-load.ts';
import { scanDataset } from '../data/dataset-scan.ts';
import { FlagError, ModelError, UserError } from '../errors.ts';
import { evaluateModel } from './score.ts';
import { loadModel } from '../export/model-io.ts';
import type { Reporter } from '../progress.ts';
import { predictionsCsv, reviewSummary, type PredictionRow, type ReviewSummary } from './review-summary.ts';
import { readModelFolder } from '../export/model-folder.ts';

interface EvaluateOptions {
  model: string;
  data: string;
  backend: BackendChoice;
  cacheDir: string;
}

interface EvaluateResult {
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
 * Scores a model version on a labelled folder with the version's own preprocessing and
 * inference policy, and scores its review flag the way the Worker would raise it.
 */
export async function evaluate(options: EvaluateOptions, reporter: Reporter): Promise<EvaluateResult> {
  const { manifest } = await readModelFolder(options.model);
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
  const profile = manifest.domain;
  const features = needsFeatures(profile) ? await featuresServed(model, examples, manifest.preprocessing, manifest.inference) : undefined;
  model.dispose();
  const k = manifest.classes.length;
  const scored = { probabilities, labels: examples.map((e) => e.label), classCount: k };
  const featuresOf = (i: number) => features?.values.subarray(i * features.size, (i + 1) * features.size);
  const outside = dataset.images.map((im, i) => (profile ? isOutOfDomain(domainScore(im.domain, profile, featuresOf(i))) : null));
  return {
    evaluation,
    // predictServed has applied the temperature already: score them as they are.
    ece: reliability(scored, 1, 15).ece,
    review: reviewSummary(scored, manifest.inference?.reviewThreshold ?? 0),
    outOfDomain: profile ? outside.filter(Boolean).length / Math.max(outside.length, 1) : null,
    predictions: dataset.images.map((im, i) => ({ path: im.path, label: examples[i].label, probabilities: probabilities.subarray(i * k, (i + 1) * k), outOfDomain: outside[i] })),
  };
}
