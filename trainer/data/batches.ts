import * as tf from '@tensorflow/tfjs-core';
import { dihedralVariants, finalProbabilities, normalizePixels, variantCount, type InferencePolicy, type PreprocessingParams } from '../../shared/index.ts';
import { augmentInto, type AugmentOptions } from './augment.ts';
import { Rng } from './rng.ts';

/** One example as the training loop sees it: prepared 8-bit pixels and a class index. */
export interface Example {
  pixels: Uint8Array;
  label: number;
}

/** How a batch is augmented: each image in 8-bit space, then (with `options.mixup`) the batch as a whole. */
export interface BatchAugment {
  options: AugmentOptions;
  maps: Uint32Array[];
  rng: Rng;
}

/**
 * One batch built an image at a time: `step` prepares the next image (augmented in 8-bit space
 * when asked, then normalised by the shared code), `finish` prepares the rest and makes the
 * tensors. A data-parallel step calls `step` while it waits for the other replicas, so the next
 * batch is ready when the step ends; the images are prepared in order, so the random draws are
 * those of building it in one go.
 *
 * @example
 * const next = new BatchBuilder(examples, params, 4, { options: defaultAugment, maps, rng });
 * while (next.step()); // or in a step's waits
 * const { x, y } = next.finish();
 */
export class BatchBuilder {
  private prepared = 0;
  private readonly x: Float32Array;
  private readonly y: Float32Array;
  private readonly scratch: Uint8Array;
  private readonly pixelCount: number;

  constructor(
    private readonly examples: Example[],
    private readonly params: PreprocessingParams,
    private readonly classCount: number,
    private readonly augment?: BatchAugment,
  ) {
    this.pixelCount = params.width * params.height * 3;
    this.x = new Float32Array(examples.length * this.pixelCount);
    this.y = new Float32Array(examples.length * classCount);
    this.scratch = new Uint8Array(this.pixelCount);
  }

  /** Prepares the next image; false once every image is. */
  readonly step = (): boolean => {
    const i = this.prepared;
    if (i >= this.examples.length) return false;
    const ex = this.examples[i];
    let rgb = ex.pixels;
    if (this.augment) {
      augmentInto(ex.pixels, this.scratch, this.augment.maps, this.augment.options, this.augment.rng);
      rgb = this.scratch;
    }
    normalizePixels(rgb, this.params, this.x, i * this.pixelCount);
    this.y[i * this.classCount + ex.label] = 1;
    this.prepared = i + 1;
    return true;
  };

  /** Blends each image and label with a partner's from the same batch (mixup), after all are prepared. */
  private mix(alpha: number, rng: Rng): void {
    const n = this.examples.length, p = this.pixelCount, k = this.classCount;
    const partner = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const x = this.x.slice(), y = this.y.slice();
    for (let i = 0; i < n; i++) {
      const lam = rng.beta(alpha, alpha), j = partner[i];
      for (let q = 0; q < p; q++) this.x[i * p + q] = lam * x[i * p + q] + (1 - lam) * x[j * p + q];
      for (let c = 0; c < k; c++) this.y[i * k + c] = lam * y[i * k + c] + (1 - lam) * y[j * k + c];
    }
  }

  /** The input and label tensors (one-hot, or blended by mixup), every image prepared. */
  finish(): { x: tf.Tensor4D; y: tf.Tensor2D } {
    while (this.step());
    const n = this.examples.length;
    const alpha = this.augment?.options.mixup ?? 0;
    if (alpha > 0 && n > 1) this.mix(alpha, this.augment!.rng);
    return { x: tf.tensor4d(this.x, [n, this.params.height, this.params.width, 3]), y: tf.tensor2d(this.y, [n, this.classCount]) };
  }
}

/** The input and one-hot label tensors of one batch, built in one go (see BatchBuilder). */
export function makeBatch(
  examples: Example[],
  params: PreprocessingParams,
  classCount: number,
  augment?: BatchAugment,
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return new BatchBuilder(examples, params, classCount, augment).finish();
}

/** Images per inference batch in predictAll (and the unit of validation work a data-parallel replica takes). */
export const PREDICT_BATCH = 64;

/**
 * Class probabilities for every example, in batches, as one flat array (n x classes). With a
 * policy, each image runs as the Worker runs it: its dihedral variants averaged, then the
 * temperature (both from shared code). `combine` replaces that last step for outputs other than
 * probabilities (`width` values per variant), such as the network's features.
 */
export async function predictAll(
  model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] },
  examples: Example[],
  params: PreprocessingParams,
  classCount: number,
  policy?: InferencePolicy,
  batchSize = PREDICT_BATCH,
  combine: (rows: Float32Array, width: number, policy: InferencePolicy) => ArrayLike<number> = finalProbabilities,
): Promise<Float32Array> {
  const out = new Float32Array(examples.length * classCount);
  const variants = policy ? variantCount(policy) : 1;
  const perBatch = Math.max(1, Math.floor(batchSize / variants));
  const pixelCount = params.width * params.height * 3;
  const input = new Float32Array(pixelCount);
  for (let start = 0; start < examples.length; start += perBatch) {
    const chunk = examples.slice(start, start + perBatch);
    const x = new Float32Array(chunk.length * variants * pixelCount);
    chunk.forEach((ex, i) => {
      normalizePixels(ex.pixels, params, input, 0);
      x.set(policy ? dihedralVariants(input, params.width, 3, policy) : input, i * variants * pixelCount);
    });
    const probs = tf.tidy(() => model.predict(tf.tensor4d(x, [chunk.length * variants, params.height, params.width, 3])) as tf.Tensor);
    const values = await probs.data();
    tf.dispose(probs);
    if (!policy) {
      out.set(values, start * classCount);
      continue;
    }
    const rowSize = variants * classCount;
    chunk.forEach((_, i) => out.set(combine(values.subarray(i * rowSize, (i + 1) * rowSize) as Float32Array, classCount, policy), (start + i) * classCount));
  }
  return out;
}
