import { MANIFEST_FILE, sha256Hex, type Manifest, type ModelVersionFiles } from '../../shared/index.ts';
import type { ManifestRegistry } from '../../worker/models/registry.ts';

/** The part of an R2 bucket publishing needs; the local platform proxy, the test binding and the remote wrapper all fit. */
export interface ModelBucket {
  head(key: string): Promise<unknown | null>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  put(key: string, value: Uint8Array, options?: { httpMetadata?: { contentType?: string } }): Promise<unknown>;
}

/** Where a version is published: its files to the bucket, its manifest's digest to D1. */
export interface PublishTarget {
  bucket: ModelBucket;
  registry: ManifestRegistry;
}

interface PublishOptions {
  /** Called after each file is uploaded and verified. */
  onFile?: (path: string, bytes: number) => void;
}

const contentTypes: Record<string, string> = {
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  bin: 'application/octet-stream',
};

/** The sha256 of what the bucket holds under `key`, or null. */
async function readBack(bucket: ModelBucket, key: string): Promise<string | null> {
  const object = await bucket.get(key);
  return object ? sha256Hex(new Uint8Array(await object.arrayBuffer())) : null;
}

async function putVerified(bucket: ModelBucket, key: string, bytes: Uint8Array, expected: string): Promise<void> {
  const ext = key.slice(key.lastIndexOf('.') + 1);
  await bucket.put(key, bytes, { httpMetadata: { contentType: contentTypes[ext] ?? 'application/octet-stream' } });
  const digest = (await readBack(bucket, key)) ?? 'missing';
  if (digest !== expected) throw new Error(`${key} reads back with sha256 ${digest}, expected ${expected}; the version is left unpublished`);
}

/**
 * What publishing `version` does now: nothing (it is published), record a manifest already in
 * the bucket, upload it and record it, or upload again what was recorded (a publish cut short, or
 * a copy in the bucket changed since).
 */
async function plan(target: PublishTarget, name: string, sha256: string): Promise<'published' | 'record' | 'upload' | 'restore'> {
  const [recorded, stored] = await Promise.all([target.registry.recorded(name), readBack(target.bucket, `${name}/${MANIFEST_FILE}`)]);
  if (recorded !== null && recorded !== sha256) {
    throw new Error(`model version ${name} was published with another manifest (sha256 ${recorded.slice(0, 12)}…); versions are immutable, train a new one`);
  }
  if (recorded === sha256) return stored === sha256 ? 'published' : 'restore';
  if (stored === null) return 'upload';
  // In the bucket but never recorded: published before records were kept, or put there by hand.
  if (stored === sha256) return 'record';
  throw new Error(`the bucket holds another manifest under ${name} that was never recorded as published; delete ${name}/ from the bucket or train a new version`);
}

/** Whether `version` is published as it is on disk: its manifest recorded in D1 and the same in the bucket. */
export async function isPublished(target: PublishTarget, version: ModelVersionFiles): Promise<boolean> {
  return (await plan(target, version.manifest.version, await sha256Hex(version.manifestBytes as Uint8Array<ArrayBuffer>))) === 'published';
}

/**
 * Uploads a checked model version under `<version>/`, each file read back and its sha256
 * checked, then records the manifest's digest in D1 and writes the manifest last, so the Worker
 * never sees a manifest whose files are not all there, nor one that is not recorded. A version
 * already published is refused (versions are immutable); one whose manifest is in the bucket
 * unrecorded but identical (published before records were kept) is recorded; one recorded
 * with this manifest whose copy in the bucket was changed or lost is restored.
 *
 * @example
 * await publishVersion({ bucket: env.MODELS, registry: d1Registry(env.DB) }, await readModelFolder('models/v1'));
 */
export async function publishVersion(target: PublishTarget, version: ModelVersionFiles, options: PublishOptions = {}): Promise<'uploaded' | 'recorded' | 'restored'> {
  const name = version.manifest.version;
  const sha256 = await sha256Hex(version.manifestBytes as Uint8Array<ArrayBuffer>);
  const step = await plan(target, name, sha256);
  if (step === 'published') throw new Error(`model version ${name} is already published; versions are immutable, train a new one`);
  const uploads = step !== 'record';
  if (uploads) {
    for (const entry of version.manifest.files) {
      const bytes = version.files.get(entry.path)!;
      await putVerified(target.bucket, `${name}/${entry.path}`, bytes, entry.sha256);
      options.onFile?.(entry.path, bytes.length);
    }
  }
  if (step !== 'restore') await target.registry.record(name, sha256);
  if (uploads) {
    await putVerified(target.bucket, `${name}/${MANIFEST_FILE}`, version.manifestBytes, sha256);
    options.onFile?.(MANIFEST_FILE, version.manifestBytes.length);
  }
  return step === 'upload' ? 'uploaded' : step === 'record' ? 'recorded' : 'restored';
}
