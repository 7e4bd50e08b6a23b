import { domainScoreParts, domainStatistics, needsFeatures, pixelTestDifference, pixelTestImage, preprocess, SELF_TEST_TOLERANCE, type Manifest } from '../../shared/index.ts';
import { inferWithFeatures } from './classify-images.ts';
import { HttpError } from '../errors.ts';
import type { Network } from './neural-network.ts';

/**
 * Refuses (503 `model_integrity`) a version that does not give the trainer's answer to its
 * manifest's pixel test: the synthetic photo through this manifest's preprocessing, the network,
 * its test-time averaging and temperature, compared class by class. A manifest whose classes,
 * crop, mean, std or temperature are not the ones the version was trained with fails it, whoever
 * changed it. Versions written before the trainer recorded one have only their publish record.
 *
 * @example
 * await checkPixelTest('v3', manifest, network);
 */
export async function checkPixelTest(version: string, manifest: Manifest, network: Network): Promise<void> {
  const test = manifest.pixelTest;
  if (!test) return;
  const image = pixelTestImage(test.seed, test.width, test.height);
  const input = preprocess(image, manifest.preprocessing);
  const { probabilities, features } = await inferWithFeatures(input, { manifest, network }, needsFeatures(manifest.domain));
  const computed = Object.fromEntries(manifest.classes.map((label, i) => [label, probabilities[i]]));
  const diff = pixelTestDifference(test.probabilities, computed, manifest.classes);
  if (!(diff <= SELF_TEST_TOLERANCE)) {
    throw new HttpError(
      'model_integrity',
      `model ${version}: its answer to the manifest's pixel test is off by ${diff} from the trainer's: the manifest's classes, preprocessing or inference policy are not the ones the version was trained with`,
    );
  }
  if (test.domainScore === undefined || !manifest.domain) return;
  const parts = domainScoreParts(domainStatistics(image), manifest.domain, features);
  const checks: [string, number, number | undefined][] = [
    ['domain score', Math.max(parts.statistics, parts.features ?? 0), test.domainScore],
    ['feature score', parts.features ?? Number.NaN, test.featureScore],
  ];
  for (const [what, score, recorded] of checks) {
    // Relative: the synthetic photo is far out of domain, and float32 features differ by backend in their last bits.
    if (recorded === undefined || Math.abs(score - recorded) <= DOMAIN_TOLERANCE * Math.max(1, recorded)) continue;
    throw new HttpError(
      'model_integrity',
      `model ${version}: the pixel test's ${what} is ${score}, the trainer's was ${recorded}: the manifest's domain profile is not the one the version was trained with`,
    );
  }
}

const DOMAIN_TOLERANCE = 1e-3;
