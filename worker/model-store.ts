import * as tfl from '@tensorflow/tfjs-layers';
import { parseManifest, sha256Hex, type Manifest } from '../shared/index.ts';
import { ensureBackend, tf } from './backend.ts';
import { ModelUnavailableError, NotFoundError } from './errors.ts';

/** A verified model version, ready to run. */
export interface LoadedModel {
  manifest: Manifest;
  model: tfl.LayersModel;
  /** Time to fetch, verify and build it, once per isolate. */
  loadMs: number;
}

/** Where a published version stands, as seen from this isolate. */
export type VersionStatus = 'ready' | 'published' | 'invalid' | 'incomplete';

/** The manifest object of a version as R2 lists it; its etag keys the per-isolate cache. */
export interface StoredVersion {
  version: string;
  etag: string;
  uploaded: Date;
}

const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MANIFEST_FILE = 'manifest.json';

// Per isolate: versions being or already loaded, and versions refused (with why), keyed by
// version and manifest etag so a re-published manifest is checked afresh.
const loaded = new Map<string, Promise<LoadedModel>>();
const refused = new Map<string, string>();
const cacheKey = (stored: StoredVersion) => `${stored.version}@${stored.etag}`;

/** Every version prefix in the bucket and whether its manifest (written last) is there. */
export async function listStoredVersions(bucket: R2Bucket): Promise<{ complete: StoredVersion[]; incomplete: string[] }> {
  const manifests = new Map<string, StoredVersion>();
  const prefixes = new Set<string>();
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ cursor, limit: 1000 });
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
 * The version a request is served by: the one it names, else `MODEL_VERSION`, else the most
 * recently published. Unknown names are 404; an empty bucket is 503.
 */
export async function resolveVersion(env: Env, requested?: string): Promise<StoredVersion> {
  const wanted = requested || env.MODEL_VERSION || undefined;
  if (wanted) {
    const head = VERSION_PATTERN.test(wanted) ? await env.MODELS.head(`${wanted}/${MANIFEST_FILE}`) : null;
    if (!head) throw new NotFoundError('model_not_found', `model version "${wanted}" is not published`);
    return { version: wanted, etag: head.etag, uploaded: head.uploaded };
  }
  const { complete } = await listStoredVersions(env.MODELS);
  if (!complete.length) {
    throw new ModelUnavailableError('no_model', 'no model version is published; run `npm run publish -- --model DIR`');
  }
  return complete[0];
}

async function readVerified(bucket: R2Bucket, version: string, file: Manifest['files'][number]): Promise<Uint8Array> {
  const object = await bucket.get(`${version}/${file.path}`);
  if (!object) throw new ModelUnavailableError('model_integrity', `model ${version}: ${file.path} is missing`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (bytes.length !== file.bytes || digest !== file.sha256) {
    throw new ModelUnavailableError('model_integrity', `model ${version}: ${file.path} does not match its sha256 in the manifest`);
  }
  return bytes;
}

function concat(parts: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out.buffer;
}

async function load(bucket: R2Bucket, stored: StoredVersion): Promise<LoadedModel> {
  const started = Date.now();
  const { version } = stored;
  const object = await bucket.get(`${version}/${MANIFEST_FILE}`);
  if (!object) throw new NotFoundError('model_not_found', `model version "${version}" is not published`);
  let manifest: Manifest;
  try {
    manifest = parseManifest(await object.json());
  } catch (error) {
    throw new ModelUnavailableError('model_invalid', `model ${version}: manifest is invalid: ${(error as Error).message}`);
  }
  if (manifest.version !== version) {
    throw new ModelUnavailableError('model_invalid', `model ${version}: manifest names version "${manifest.version}"`);
  }
  // Every file the manifest lists is checked, not only those the model needs.
  const files = new Map<string, Uint8Array>();
  for (const file of manifest.files) files.set(file.path, await readVerified(bucket, version, file));
  const modelJsonBytes = files.get('model.json');
  if (!modelJsonBytes) throw new ModelUnavailableError('model_invalid', `model ${version}: manifest lists no model.json`);
  const modelJson = JSON.parse(new TextDecoder().decode(modelJsonBytes)) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  const weightParts = modelJson.weightsManifest.flatMap((group) =>
    group.paths.map((path) => {
      const bytes = files.get(path);
      if (!bytes) throw new ModelUnavailableError('model_integrity', `model ${version}: weights file ${path} is not covered by the manifest`);
      return bytes;
    }),
  );
  await ensureBackend();
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData: concat(weightParts) }),
  );
  const [, h, w, c] = model.inputs[0].shape;
  const units = model.outputs[0].shape[1];
  const { input, preprocessing, classes } = manifest;
  if (h !== input.height || w !== input.width || c !== input.channels || preprocessing.height !== h || preprocessing.width !== w || units !== classes.length) {
    model.dispose();
    throw new ModelUnavailableError('model_invalid', `model ${version}: network shape does not match the manifest's input/classes`);
  }
  // One warm-up run compiles the kernels now rather than in the first device request.
  tf.tidy(() => model.predict(tf.zeros([1, h, w, c])));
  return { manifest, model, loadMs: Date.now() - started };
}

/**
 * The verified model of a version, loaded once per isolate. Every file is checked against
 * the manifest's sha256 first; a version that fails is never served and is retried on the
 * next request (nothing about a failure is cached but its reason, for `GET /v1/models`).
 */
export function getModel(bucket: R2Bucket, stored: StoredVersion): Promise<LoadedModel> {
  const key = cacheKey(stored);
  let pending = loaded.get(key);
  if (!pending) {
    pending = load(bucket, stored).then(
      (result) => {
        refused.delete(key);
        return result;
      },
      (error: unknown) => {
        loaded.delete(key);
        refused.set(key, (error as Error).message);
        throw error;
      },
    );
    loaded.set(key, pending);
  }
  return pending;
}

/** What this isolate knows about a stored version. */
export async function statusOf(stored: StoredVersion): Promise<{ status: VersionStatus; reason?: string }> {
  const key = cacheKey(stored);
  const reason = refused.get(key);
  if (reason) return { status: 'invalid', reason };
  const pending = loaded.get(key);
  if (pending && (await pending.then(() => true, () => false))) return { status: 'ready' };
  return { status: 'published' };
}
