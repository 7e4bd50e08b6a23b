import * as tf from '@tensorflow/tfjs-core';
import { normalizePixels, type PreprocessingParams } from '../shared/index.ts';
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

/** Class probabilities for every example, in batches, as one flat array (n x classes). */
export async function predictAll(
  model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] },
  examples: Example[],
  params: PreprocessingParams,
  classCount: number,
  batchSize = 64,
): Promise<Float32Array> {
  const out = new Float32Array(examples.length * classCount);
  for (let start = 0; start < examples.length; start += batchSize) {
    const chunk = examples.slice(start, start + batchSize);
    const { x, y } = makeBatch(chunk, params, classCount);
    const probs = tf.tidy(() => model.predict(x) as tf.Tensor);
    out.set(await probs.data(), start * classCount);
    tf.dispose([x, y, probs]);
  }
  return out;
}
