import { plainInference, type Manifest } from '../shared/index.ts';
import { ensureBackend, tf } from './backend.ts';
import { HttpError, ModelUnavailableError, NotFoundError, quoted } from './errors.ts';
import { buildNetwork, type Network } from './network.ts';
import { findVersion, listStoredVersions, readVerifiedVersion, type StoredVersion, type VersionBucket } from './model-files.ts';

export { listStoredVersions, MANIFEST_FILE, type StoredVersion } from './model-files.ts';

/** A verified model version, ready to run. */
export interface LoadedModel {
  manifest: Manifest;
  /** What requests run (the folded forward pass, or `model.predict` for a network it does not know), checked at load. */
  network: Network;
  /** Time to fetch, verify and build it, once per isolate. */
  loadMs: number;
  /** Bytes its network holds in the wasm heap while it is resident. */
  bytes: number;
  /** Etag of each file when it was verified, to notice a file replaced later. */
  etags: Map<string, string>;
}

/**
 * The version a request is served by when routing does not decide: the one it names, else
 * `MODEL_VERSION`, else the most recently published. Unknown names are 404; an empty bucket is 503.
 */
export async function resolveVersion(env: Env, requested?: string): Promise<StoredVersion> {
  const wanted = requested || env.MODEL_VERSION || undefined;
  if (wanted) {
    const stored = await findVersion(env.MODELS, wanted);
    if (!stored) throw new NotFoundError('model_not_found', `model version ${quoted(wanted)} is not published`);
    return stored;
  }
  const { complete } = await listStoredVersions(env.MODELS);
  if (!complete.length) {
    throw new ModelUnavailableError('no_model', 'no model version is published; run `npm run publish -- --model DIR`');
  }
  return complete[0];
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

/** Fetches a version, checks every file against the manifest's sha256 and builds the network. */
export async function loadVersion(bucket: VersionBucket, version: string, manifestBytes?: Uint8Array): Promise<LoadedModel> {
  const started = Date.now();
  const { manifest, files, etags } = await readVerifiedVersion(bucket, version, manifestBytes);
  const modelJsonBytes = files.get('model.json');
  if (!modelJsonBytes) throw new ModelUnavailableError('model_invalid', `model ${version}: manifest lists no model.json`);
  let modelJson: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  let weightSpecs: tf.io.WeightsManifestEntry[];
  try {
    modelJson = JSON.parse(new TextDecoder().decode(modelJsonBytes));
    weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  } catch (error) {
    throw new ModelUnavailableError('model_invalid', `model ${version}: model.json is not a tfjs layers model: ${(error as Error).message}`);
  }
  const weightParts = modelJson.weightsManifest.flatMap((group) =>
    group.paths.map((path) => {
      const bytes = files.get(path);
      if (!bytes) throw new ModelUnavailableError('model_integrity', `model ${version}: weights file ${path} is not covered by the manifest`);
      return bytes;
    }),
  );
  await ensureBackend();
  const { input, preprocessing, classes } = manifest;
  const policy = manifest.inference ?? plainInference;
  const saved = { modelTopology: modelJson.modelTopology, weightSpecs, weightData: concat(weightParts) };
  const network = await buildNetwork(version, saved, classes.length, manifest.selfTest).catch((error: unknown) => {
    if (error instanceof HttpError) throw error;
    // A model.json whose own parts disagree (weights it lists, their shapes, a layer's settings).
    throw new ModelUnavailableError('model_invalid', `model ${version}: the network cannot be built from model.json: ${(error as Error).message}`);
  });
  const [h, w, c] = network.inputShape;
  const problem =
    h !== input.height || w !== input.width || c !== input.channels || preprocessing.height !== h || preprocessing.width !== w
      ? "network shape does not match the manifest's input"
      : policy.tta === 'dihedral8' && h !== w
        ? 'dihedral test-time averaging needs a square input'
        : null;
  if (problem) {
    network.dispose();
    throw new ModelUnavailableError('model_invalid', `model ${version}: ${problem}`);
  }
  return { manifest, network, loadMs: Date.now() - started, bytes: network.bytes, etags };
}
