import { dihedralVariants, domainScore, domainStatistics, finalProbabilities, meanFeatures, needsFeatures, plainInference, preprocess, reviewReasons, variantCount, type Manifest, type PixelImage, type ReviewReason } from '../../shared/index.ts';
import { tf } from './backend.ts';
import { clockTick, nextTurn } from '../clock.ts';
import { decodeImage } from './decode.ts';
import type { LoadedModel } from '../models/loader.ts';

export interface Prediction {
  label: string;
  probability: number;
}

export interface Classification {
  id: string;
  model: { name: string; version: string };
  top: Prediction;
  predictions: Prediction[];
  /** A technician should look: there is at least one of `reasons`. */
  review: boolean;
  reasons: ReviewReason[];
  /** Against the version's domain profile: up to 1 like the training photos, over 1 unlike them; null without a profile. */
  domainScore: number | null;
  timing: { decodeMs: number; preprocessMs: number; inferMs: number };
}

/** What is kept of a classified image after the response, to run it on the shadow version. */
export interface ClassifiedImage {
  result: Classification;
  /** Final probabilities in the order of `classes` (the manifest's). */
  probabilities: number[];
  classes: string[];
  bytes: Uint8Array;
  /** The preprocessed input, reusable by a version with the same preprocessing. */
  input: Float32Array;
  preprocessing: Manifest['preprocessing'];
}

/** Past this many decoded pixels, the rest of an image's work waits for a turn of the event loop. */
const HEAVY_PIXELS = 256 * 1024;

/** Decodes image bytes (JPEG, PNG, WebP) as `params` has the model see them, and times it. */
export async function decodeTimed(bytes: Uint8Array, params: Manifest['preprocessing']): Promise<{ image: PixelImage; decodeMs: number }> {
  await clockTick();
  const t0 = Date.now();
  const image = await decodeImage(bytes, params);
  await clockTick();
  return { image, decodeMs: Date.now() - t0 };
}

/**
 * Runs one preprocessed image through a version the way its manifest says: the dihedral
 * variants as one batch when the policy asks for them, then the mean and the temperature.
 * Returns probabilities in the manifest's class order.
 */
export async function infer(input: Float32Array, loaded: Pick<LoadedModel, 'manifest' | 'network'>): Promise<number[]> {
  return (await inferWithFeatures(input, loaded, false)).probabilities;
}

/**
 * {@link infer}, and with `withFeatures` the features the network's last dense layer read,
 * averaged over the variants, from the same pass: what a version-3 domain profile scores.
 */
export async function inferWithFeatures(input: Float32Array, loaded: Pick<LoadedModel, 'manifest' | 'network'>, withFeatures: boolean): Promise<{ probabilities: number[]; features?: Float64Array }> {
  const { manifest, network } = loaded;
  const policy = manifest.inference ?? plainInference;
  const { height, width, channels } = manifest.input;
  const batch = dihedralVariants(input, width, channels, policy);
  const { output, features } = tf.tidy(() => {
    const x = tf.tensor4d(batch, [variantCount(policy), height, width, channels]);
    return withFeatures ? network.runWithFeatures(x) : { output: network.run(x), features: undefined };
  });
  const rows = await output.data();
  const featureRows = features ? await features.data() : undefined;
  tf.dispose([output, ...(features && features !== output ? [features] : [])]);
  return {
    probabilities: finalProbabilities(rows, manifest.classes.length, policy),
    features: featureRows && features ? meanFeatures(featureRows, features.shape[1] ?? featureRows.length) : undefined,
  };
}

/** The response body for probabilities in class order: every class, highest first, and the review flag with its reasons. */
function toClassification(manifest: Manifest, probabilities: number[], score: number | null, timing: Classification['timing']): Classification {
  const predictions = manifest.classes
    .map((label, i) => ({ label, probability: probabilities[i] }))
    .sort((a, b) => b.probability - a.probability);
  return {
    id: crypto.randomUUID(),
    model: { name: manifest.name, version: manifest.version },
    top: predictions[0],
    predictions,
    ...flags(predictions[0].probability, score, manifest),
    timing,
  };
}

function flags(confidence: number, score: number | null, manifest: Manifest) {
  const reasons = reviewReasons(confidence, score, manifest.inference ?? plainInference);
  return { review: reasons.length > 0, reasons, domainScore: score === null ? null : Math.round(score * 1000) / 1000 };
}

/**
 * Decodes one image, preprocesses it with the manifest's parameters (the trainer's own
 * code) and runs the model. Probabilities come back for every class, highest first.
 *
 * @example
 * const { result } = await classifyImage(bytes, loaded);
 * result.top; // { label: 'NEUTROPHIL', probability: 0.93 }
 */
export async function classifyImage(bytes: Uint8Array, loaded: LoadedModel): Promise<ClassifiedImage> {
  const { manifest } = loaded;
  const { image, decodeMs } = await decodeTimed(bytes, manifest.preprocessing);
  // A large photo's decode and its preprocessing each hold the isolate for tens of milliseconds.
  if (image.width * image.height > HEAVY_PIXELS) await nextTurn();
  const t1 = Date.now();
  const input = preprocess(image, manifest.preprocessing);
  const statistics = manifest.domain ? domainStatistics(image) : null;
  await clockTick();
  const t2 = Date.now();
  const { probabilities, features } = await inferWithFeatures(input, loaded, needsFeatures(manifest.domain));
  const score = manifest.domain && statistics ? domainScore(statistics, manifest.domain, features) : null;
  await clockTick();
  const t3 = Date.now();
  const result = toClassification(manifest, probabilities, score, { decodeMs, preprocessMs: t2 - t1, inferMs: t3 - t2 });
  return { result, probabilities, classes: manifest.classes, bytes, input, preprocessing: manifest.preprocessing };
}
