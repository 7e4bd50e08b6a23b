import { plainInference, type Manifest } from '../../shared/index.ts';
import { ensureBackend, tf } from '../inference/backend.ts';
import { HttpError, quoted } from '../errors.ts';
import { buildNetwork, type Network } from '../inference/neural-network.ts';
import { checkPixelTest } from '../inference/pixel-check.ts';
import { findVersion, listStoredVersions, readVerifiedVersion, type StoredVersion, type VersionStore } from './store.ts';
import { publishedRecords, type PublishedRecord } from './registry.ts';

export { listStoredVersions, type StoredVersion } from './store.ts';

/** A verified model version, ready to run. */
export interface LoadedModel {
  manifest: Manifest;
  /** What requests run (the folded forward pass, or `model.predict` for a network it does not know), checked at load. */
  network: Network;
  /** Time to fetch, verify and build it, once per isolate. */
  loadMs: number;
  /** Bytes its network holds in the wasm heap while it is resident. */
  bytes: number;
  /** Etag of each file (and of the manifest) when it was verified, to notice one replaced later. */
  etags: Map<string, string>;
  /** Digest of the manifest, as recorded in D1 when the version was published. */
  manifestSha256: string;
}

/**
 * A version by name (404 when it has no manifest in the bucket).
 *
 * @example
 * const stored = await resolveVersion(env, 'v2');
 */
export async function resolveVersion(env: Env, requested: string): Promise<StoredVersion> {
  const stored = await findVersion(env.MODELS, requested);
  if (!stored) throw new HttpError('model_not_found', `model version ${quoted(requested)} is not published`);
  return stored;
}

/**
 * The versions a request goes to when neither a pin nor the routing decides, in order of
 * preference: `MODEL_VERSION` alone when set, else every version published with `npm run
 * publish`, newest publish first (D1's record, so a file re-uploaded to the bucket moves nothing).
 * A version in the bucket without a record is never one of them. None at all is 503.
 */
export async function defaultCandidates(env: Env): Promise<StoredVersion[]> {
  if (env.MODEL_VERSION) return [await resolveVersion(env, env.MODEL_VERSION)];
  const [{ complete }, records] = await Promise.all([listStoredVersions(env.MODELS), publishedRecords(env.DB)]);
  const published = newestPublished(complete, records);
  if (!published.length) {
    const unrecorded = complete.length ? ` (${complete.length} in the bucket, none recorded by it)` : '';
    throw new HttpError('no_model', `no model version is published${unrecorded}; run \`npm run publish -- --model DIR\``);
  }
  return published;
}

/** The versions of `complete` that have a publish record, newest publish first. */
export function newestPublished(complete: StoredVersion[], records: Map<string, PublishedRecord>): StoredVersion[] {
  const at = (stored: StoredVersion) => records.get(stored.version)!.publishedAt;
  return complete.filter((stored) => records.has(stored.version)).sort((a, b) => at(b).localeCompare(at(a)) || b.version.localeCompare(a.version));
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

/**
 * Fetches a version, checks its manifest against the digest published and every file against the
 * manifest's sha256, builds the network (from the manifest `known` holds, when its look-up read
 * it) and checks it against the manifest's self-test and pixel test.
 */
export async function loadVersion(store: VersionStore, version: string, known?: StoredVersion): Promise<LoadedModel> {
  const started = Date.now();
  const { manifest, manifestSha256, files, etags } = await readVerifiedVersion(store, version, known);
  const modelJsonBytes = files.get('model.json');
  if (!modelJsonBytes) throw new HttpError('model_invalid', `model ${version}: manifest lists no model.json`);
  let modelJson: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  let weightSpecs: tf.io.WeightsManifestEntry[];
  try {
    modelJson = JSON.parse(new TextDecoder().decode(modelJsonBytes));
    weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
  } catch (error) {
    throw new HttpError('model_invalid', `model ${version}: model.json is not a tfjs layers model: ${(error as Error).message}`);
  }
  const weightParts = modelJson.weightsManifest.flatMap((group) =>
    group.paths.map((path) => {
      const bytes = files.get(path);
      if (!bytes) throw new HttpError('model_integrity', `model ${version}: weights file ${path} is not covered by the manifest`);
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
    throw new HttpError('model_invalid', `model ${version}: the network cannot be built from model.json: ${(error as Error).message}`);
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
    throw new HttpError('model_invalid', `model ${version}: ${problem}`);
  }
  await checkPixelTest(version, manifest, network).catch((error: unknown) => {
    network.dispose();
    throw error;
  });
  return { manifest, network, loadMs: Date.now() - started, bytes: network.bytes, etags, manifestSha256 };
}
