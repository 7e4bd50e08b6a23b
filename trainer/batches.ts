import * as tf from '@tensorflow/tfjs-core';
import { dihedralVariants, finalProbabilities, normalizePixels, variantCount, type InferencePolicy, type PreprocessingParams } from '../shared/index.ts';
import { augmentInto, type AugmentOptions } from './augment.ts';
import { Rng } from './rng.ts';

/** One example as the training loop sees it: prepared 8-bit pixels and a class index. */
export interface Example {
  pixels: Uint8Array;
  label: number;
}

/**
 * Builds the input and one-hot label tensors of one batch. With `augment`, each image is
 * transformed in 8-bit space first; normalisation is always the shared code's.
 */
export function makeBatch(
  examples: Example[],
  params: PreprocessingParams,
  classCount: number,
  augment?: { options: AugmentOptions; maps: Uint32Array[]; rng: Rng },
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const pixelCount = params.width * params.height * 3;
  const x = new Float32Array(examples.length * pixelCount);
  const y = new Float32Array(examples.length * classCount);
  const scratch = new Uint8Array(pixelCount);
  examples.forEach((ex, i) => {
    let rgb = ex.pixels;
    if (augment) {
      augmentInto(ex.pixels, scratch, augment.maps, augment.options, augment.rng);
      rgb = scratch;
    }
    normalizePixels(rgb, params, x, i * pixelCount);
    y[i * classCount + ex.label] = 1;
  });
  return {
    x: tf.tensor4d(x, [examples.length, params.height, params.width, 3]),
    y: tf.tensor2d(y, [examples.length, classCount]),
  };
}

/** Images per inference batch in predictAll (and the unit of validation work a data-parallel replica takes). */
export const PREDICT_BATCH = 64;

/**
 * Class probabilities for every example, in batches, as one flat array (n x classes). With a
 * policy, each image runs as the Worker runs it: its dihedral variants averaged, then the
 * temperature (both from shared code).
 */
export async function predictAll(
  model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] },
  examples: Example[],
  params: PreprocessingParams,
  classCount: number,
  policy?: InferencePolicy,
  batchSize = PREDICT_BATCH,
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
    chunk.forEach((_, i) => out.set(finalProbabilities(values.subarray(i * rowSize, (i + 1) * rowSize), classCount, policy), (start + i) * classCount));
  }
  return out;
}
