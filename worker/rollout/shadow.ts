import { argMax, preprocess } from '../../shared/index.ts';
import { decodeTimed, infer, type ClassifiedImage } from '../inference/classify-images.ts';
import { failureOf, probabilityMap, type ShadowRecord } from '../stats/record.ts';
import { leaseVersion } from './version-choice.ts';

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Runs the answered images on the shadow version and says, for each, whether its top label
 * agrees with the answer given. Never throws: a shadow that cannot run is recorded as failed.
 */
export async function runShadow(env: Env, shadow: string, items: { id: string; classified: ClassifiedImage }[]): Promise<ShadowRecord[]> {
  const now = () => new Date().toISOString();
  let lease;
  const started = Date.now();
  try {
    lease = await leaseVersion(env, shadow, 'shadow');
  } catch (error) {
    const failure = failureOf(error);
    const latencyMs = Date.now() - started;
    return items.map(({ id }) => ({ predictionId: id, version: shadow, ...failure, topLabel: null, topProbability: null, probabilities: null, agreed: null, latencyMs, createdAt: now() }));
  }
  const { manifest } = lease.loaded;
  const records: ShadowRecord[] = [];
  try {
    for (const { id, classified } of items) {
      const t0 = Date.now();
      try {
        // The answering version's input is reused when the shadow preprocesses the same way.
        const input = sameJson(manifest.preprocessing, classified.preprocessing)
          ? classified.input
          : preprocess((await decodeTimed(classified.bytes, manifest.preprocessing)).image, manifest.preprocessing);
        const probabilities = await infer(input, lease.loaded);
        const top = argMax(probabilities);
        records.push({
          predictionId: id,
          version: shadow,
          status: 200,
          errorCode: null,
          topLabel: manifest.classes[top],
          topProbability: probabilities[top],
          probabilities: probabilityMap(manifest.classes, probabilities),
          agreed: manifest.classes[top] === classified.result.top.label,
          latencyMs: Date.now() - t0,
          createdAt: now(),
        });
      } catch (error) {
        records.push({ predictionId: id, version: shadow, ...failureOf(error), topLabel: null, topProbability: null, probabilities: null, agreed: null, latencyMs: Date.now() - t0, createdAt: now() });
      }
    }
  } finally {
    lease.release();
  }
  return records;
}
