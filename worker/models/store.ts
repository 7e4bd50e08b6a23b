import { MANIFEST_FILE, ModelVersionError, parseManifestBytes, REPORT_FILE, verifyFile, type Manifest } from '../../shared/index.ts';
import type { Database } from '../db.ts';
import { HttpError, quoted } from '../errors.ts';
import { assertPublishedManifest } from './registry.ts';

// No tfjs here: the Node scripts (`npm run route -- --local`) check versions with this code too.

export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The manifest object of a version as R2 lists it; its etag keys the per-isolate cache. */
export interface StoredVersion {
  version: string;
  etag: string;
  uploaded: Date;
  /**
   * The manifest's bytes under that etag, when the look-up read them: loading the version then
   * starts from them instead of reading the manifest again, one store round trip fewer on a cold
   * isolate's first request, and the manifest loaded is the one whose etag keys the cache.
   */
  manifestBytes?: Uint8Array;
}

interface StoredObject {
  key: string;
  etag: string;
  uploaded: Date;
}

/** The part of an R2 bucket read here: the Worker binding and wrangler's local platform proxy both fit. */
export interface VersionBucket {
  head(key: string): Promise<StoredObject | null>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer>; etag: string; uploaded: Date } | null>;
  list(options?: { prefix?: string; cursor?: string; limit?: number }): Promise<{ objects: StoredObject[]; truncated: boolean; cursor?: string }>;
}

/** Where versions live: their files in the bucket, what was published in D1 (the Worker's env, or the local bindings in Node). */
export interface VersionStore {
  MODELS: VersionBucket;
  DB: Database;
}

/**
 * Runs one R2 operation; a failure of the store itself (not a missing object, which R2 answers
 * with null) becomes a 503 the client may retry, instead of an unexplained 500.
 */
export async function fromStore<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    console.error(`model store: ${what} failed`, error);
    throw new HttpError('store_unavailable', `the model store could not be read (${what}); try again shortly`);
  }
}

/** Every version prefix in the bucket and whether its manifest (written last) is there. */
export async function listStoredVersions(bucket: VersionBucket): Promise<{ complete: StoredVersion[]; incomplete: string[] }> {
  const manifests = new Map<string, StoredVersion>();
  const prefixes = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await fromStore('listing versions', () => bucket.list({ cursor, limit: 1000 }));
    for (const object of page.objects) {
      const slash = object.key.indexOf('/');
      if (slash < 1) continue;
      const version = object.key.slice(0, slash);
      prefixes.add(version);
      if (object.key === `${version}/${MANIFEST_FILE}`) {
        manifests.set(version, { version, etag: object.etag, uploaded: object.uploaded });
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  const complete = [...manifests.values()].sort((a, b) => b.uploaded.getTime() - a.uploaded.getTime() || b.version.localeCompare(a.version));
  return { complete, incomplete: [...prefixes].filter((v) => !manifests.has(v)).sort() };
}

/**
 * The published version with this name (its manifest object, read whole: a manifest is a few KB,
 * and a load that follows needs it), or null.
 */
export async function findVersion(bucket: VersionBucket, version: string): Promise<StoredVersion | null> {
  if (!VERSION_PATTERN.test(version)) return null;
  const what = `reading ${version}/${MANIFEST_FILE}`;
  const object = await fromStore(what, () => bucket.get(`${version}/${MANIFEST_FILE}`));
  if (!object) return null;
  const manifestBytes = new Uint8Array(await fromStore(what, () => object.arrayBuffer()));
  return { version, etag: object.etag, uploaded: object.uploaded, manifestBytes };
}

/**
 * A version's manifest (from `known`, what its look-up read, else read now), refused unless its
 * bytes are the ones published (D1), then parsed and checked to name the version it is filed under.
 */
async function readManifest(store: VersionStore, version: string, known?: StoredVersion): Promise<{ manifest: Manifest; sha256: string; etag: string }> {
  const stored = known?.manifestBytes ? known : await findVersion(store.MODELS, version);
  if (!stored?.manifestBytes) throw new HttpError('model_not_found', `model version ${quoted(version)} is not published`);
  const sha256 = await assertPublishedManifest(store.DB, version, stored.manifestBytes);
  let manifest: Manifest;
  try {
    manifest = parseManifestBytes(stored.manifestBytes);
  } catch (error) {
    throw new HttpError('model_invalid', `model ${version}: manifest is invalid: ${(error as Error).message}`);
  }
  if (manifest.version !== version) {
    throw new HttpError('model_invalid', `model ${version}: manifest names version ${quoted(manifest.version)}`);
  }
  return { manifest, sha256, etag: stored.etag };
}

/** One file of a version, refused unless its size and sha256 match the manifest. */
async function readVerified(bucket: VersionBucket, version: string, file: Manifest['files'][number]): Promise<{ bytes: Uint8Array; etag: string }> {
  const object = await fromStore(`reading ${version}/${file.path}`, () => bucket.get(`${version}/${file.path}`));
  const read = object && new Uint8Array(await fromStore(`reading ${version}/${file.path}`, () => object.arrayBuffer()));
  try {
    return { bytes: await verifyFile(file, read), etag: object!.etag };
  } catch (error) {
    if (!(error instanceof ModelVersionError)) throw error;
    throw new HttpError('model_integrity', `model ${version}: ${error.message}`);
  }
}

/**
 * Reads a version and checks its manifest against the digest published (D1) and every file it
 * lists but the report against its sha256, as the Worker does before serving it, all files at
 * once (the manifest from `known` when the look-up read it). Returns the bytes and each file's
 * etag, the manifest's included (for cheap re-checks later).
 *
 * @example
 * const { manifest, files } = await readVerifiedVersion(env, 'v2');
 */
export async function readVerifiedVersion(store: VersionStore, version: string, known?: StoredVersion) {
  const { manifest, sha256, etag } = await readManifest(store, version, known);
  const needed = manifest.files.filter((file) => file.path !== REPORT_FILE);
  const read = await Promise.all(needed.map((file) => readVerified(store.MODELS, version, file)));
  const files = new Map(needed.map((file, i) => [file.path, read[i].bytes]));
  const etags = new Map([[MANIFEST_FILE, etag], ...needed.map((file, i) => [file.path, read[i].etag] as const)]);
  return { manifest, manifestSha256: sha256, files, etags };
}

export async function filesUnchanged(bucket: VersionBucket, version: string, etags: Map<string, string>): Promise<boolean> {
  let heads;
  try {
    heads = await Promise.all([...etags.keys()].map((path) => bucket.head(`${version}/${path}`)));
  } catch (error) {
    // The copy in memory was verified; a store that cannot answer now says nothing against it.
    // Keep serving it and check again at the next interval.
    console.warn(`model ${version}: could not re-check its files in the store; keeping the verified copy`, error);
    return true;
  }
  return heads.every((head, i) => head !== null && head.etag === [...etags.values()][i]);
}
