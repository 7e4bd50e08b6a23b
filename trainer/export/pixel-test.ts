import type * as tfl from '@tensorflow/tfjs-layers';
import { PIXEL_TEST_SIZE, pixelTestImage, preparePixels, type InferencePolicy, type PixelTest, type PreprocessingParams } from '../../shared/index.ts';
import { predictAll } from '../data/batches.ts';

const PIXEL_TEST_SEED = 11;

/**
 * The pixel test the Worker checks at load: `model`'s final answer (load it from the written
 * files, so the weights are the quantised ones the Worker gets) to the seeded synthetic photo of
 * shared/pixel-test, preprocessed with `params` and run with `policy`, by class name.
 *
 * @example
 * manifest.pixelTest = await recordPixelTest(quantModel, params, classes, inference);
 */
export async function recordPixelTest(model: tfl.LayersModel, params: PreprocessingParams, classes: string[], policy: InferencePolicy): Promise<PixelTest> {
  const { width, height } = PIXEL_TEST_SIZE;
  const pixels = preparePixels(pixelTestImage(PIXEL_TEST_SEED, width, height), params);
  const probabilities = await predictAll(model, [{ pixels, label: 0 }], params, classes.length, policy);
  return { seed: PIXEL_TEST_SEED, width, height, probabilities: Object.fromEntries(classes.map((label, i) => [label, probabilities[i]])) };
}
