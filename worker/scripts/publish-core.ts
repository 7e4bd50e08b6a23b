import { sha256Hex, type Manifest } from '../../shared/index.ts';

/** A model version read from disk (see model-dir.ts); plain bytes, so workerd tests can build one too. */
export interface ModelVersionFiles {
  manifest: Manifest;
  /** Exact bytes of manifest.json as written by the trainer. */
  manifestBytes: Uint8Array;
  /** Every file the manifest lists, checked against its size and sha256. */
  files: Map<string, Uint8Array>;
}

/** The part of an R2 bucket publishing needs; the local platform proxy, the test binding and the remote wrapper all fit. */
export interface ModelBucket {
  head(key: string): Promise<unknown | null>;
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
  put(key: string, value: Uint8Array, options?: { httpMetadata?: { contentType?: string } }): Promise<unknown>;
}

export interface PublishOptions {
  /** Called after each file is uploaded and verified. */
  onFile?: (path: string, bytes: number) => void;
}

const contentTypes: Record<string, string> = {
  json: 'application/json',
  html: 'text/html; charset=utf-8',
  bin: 'application/octet-stream',
};

async function putVerified(bucket: ModelBucket, key: string, bytes: Uint8Array, expected: string): Promise<void> {
  const ext = key.slice(key.lastIndexOf('.') + 1);
  await bucket.put(key, bytes, { httpMetadata: { contentType: contentTypes[ext] ?? 'application/octet-stream' } });
  const back = await bucket.get(key);
  const digest = back ? await sha256Hex(new Uint8Array(await back.arrayBuffer())) : 'missing';
  if (digest !== expected) throw new Error(`${key} reads back with sha256 ${digest}, expected ${expected}; the version is left unpublished`);
}

/**
 * Uploads a checked model version under `<version>/`, the manifest last, so the Worker never
 * sees a manifest whose files are not all there; each file is read back and its sha256
 * checked. A version whose manifest already exists is refused.
 *
 * @example
 * await publishVersion(env.MODELS, await readModelDir('models/v1'));
 */
export async function publishVersion(bucket: ModelBucket, version: ModelVersionFiles, options: PublishOptions = {}): Promise<string> {
  const name = version.manifest.version;
  if (await bucket.head(`${name}/manifest.json`)) {
    throw new Error(`model version ${name} is already published; versions are immutable, train a new one`);
  }
  for (const entry of version.manifest.files) {
    const bytes = version.files.get(entry.path)!;
    await putVerified(bucket, `${name}/${entry.path}`, bytes, entry.sha256);
    options.onFile?.(entry.path, bytes.length);
  }
  await putVerified(bucket, `${name}/manifest.json`, version.manifestBytes, await sha256Hex(version.manifestBytes as Uint8Array<ArrayBuffer>));
  options.onFile?.('manifest.json', version.manifestBytes.length);
  return name;
}
