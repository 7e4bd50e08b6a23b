import type * as tfl from '@tensorflow/tfjs-layers';
import { domainScoreParts, domainStatistics, needsFeatures, PIXEL_TEST_SIZE, pixelTestImage, preparePixels, type DomainProfile, type InferencePolicy, type PixelTest, type PreprocessingParams } from '../../shared/index.ts';
import { predictAll } from '../data/batches.ts';
import { featuresServed } from '../training/forward.ts';

const PIXEL_TEST_SEED = 11;

/**
 * The pixel test the Worker checks at load: `model`'s final answer (load it from the written
 * files, so the weights are the quantised ones the Worker gets) to the seeded synthetic photo of
 * shared/pixel-test, preprocessed with `params` and run with `policy`, by class name, and its
 * score against `domain` (the network's features included) when there is a profile.
 *
 * @example
 * manifest.pixelTest = await recordPixelTest(quantModel, params, classes, inference, domain);
 */
export async function recordPixelTest(model: tfl.LayersModel, params: PreprocessingParams, classes: string[], policy: InferencePolicy, domain?: DomainProfile): Promise<PixelTest> {
  const { width, height } = PIXEL_TEST_SIZE;
  const image = pixelTestImage(PIXEL_TEST_SEED, width, height);
  const example = { pixels: preparePixels(image, params), label: 0 };
  const probabilities = await predictAll(model, [example], params, classes.length, policy);
  const test: PixelTest = { seed: PIXEL_TEST_SEED, width, height, probabilities: Object.fromEntries(classes.map((label, i) => [label, probabilities[i]])) };
  if (!domain) return test;
  const features = needsFeatures(domain) ? (await featuresServed(model, [example], params, policy)).values : undefined;
  const parts = domainScoreParts(domainStatistics(image), domain, features);
  return { ...test, domainScore: Math.max(parts.statistics, parts.features ?? 0), ...(parts.features === null ? {} : { featureScore: parts.features }) };
}
