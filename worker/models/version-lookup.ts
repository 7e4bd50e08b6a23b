import { recheckMs } from './cache.ts';
import { findVersion, type StoredVersion } from './store.ts';
import { defaultCandidates } from './loader.ts';

// Per isolate: which manifest (etag) a version name stood for, and when the bucket said so.
const found = new Map<string, { stored: StoredVersion | StoredVersion[]; at: number }>();
const DEFAULT_KEY = '\u0000default';

async function remembered<T extends StoredVersion | StoredVersion[]>(env: Env, key: string, look: () => Promise<T | null>): Promise<T | null> {
  const hit = found.get(key);
  if (hit && Date.now() - hit.at < recheckMs(env)) return hit.stored as T;
  const stored = await look();
  // Misses are not kept: a version published a moment ago is served at once.
  if (stored) found.set(key, { stored, at: Date.now() });
  else found.delete(key);
  return stored;
}

/**
 * `findVersion` without a bucket round trip on every request: a version found is trusted for
 * MODEL_RECHECK_SECONDS, the interval at which the model cache compares a resident version's
 * files with the bucket anyway. So a re-published or deleted version is noticed within that
 * interval, as a replaced weight file already is.
 *
 * @example
 * const stored = await lookUpVersion(env, 'bloodcell-20261208-2');
 */
export function lookUpVersion(env: Env, version: string): Promise<StoredVersion | null> {
  return remembered(env, version, () => findVersion(env.MODELS, version));
}

/** `defaultCandidates` (MODEL_VERSION, else every published version, newest first) under the same rule. */
export async function lookUpDefaultCandidates(env: Env): Promise<StoredVersion[]> {
  return (await remembered(env, `${DEFAULT_KEY}:${env.MODEL_VERSION}`, () => defaultCandidates(env)))!;
}
