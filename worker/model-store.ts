import * as tfl from '@tensorflow/tfjs-layers';
import { plainInference, variantCount, type Manifest } from '../shared/index.ts';
import { ensureBackend, tf } from './backend.ts';
import { ModelUnavailableError, NotFoundError } from './errors.ts';
import { compileForward, type ForwardPlan } from './fused-model.ts';
import { findVersion, listStoredVersions, readVerifiedVersion, type StoredVersion, type VersionBucket } from './model-files.ts';

export { listStoredVersions, MANIFEST_FILE, type StoredVersion } from './model-files.ts';

/** A verified model version, ready to run. */
export interface LoadedModel {
  manifest: Manifest;
  model: tfl.LayersModel;
  /** The folded forward pass requests run, or null when the model is run with `model.predict`. */
  plan: ForwardPlan | null;
  /** Time to fetch, verify and build it, once per isolate. */
  loadMs: number;
  /** Bytes its weights and the plan's folded tensors hold in the wasm heap while it is resident. */
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
    if (!stored) throw new NotFoundError('model_not_found', `model version "${wanted}" is not published`);
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
export async function loadVersion(bucket: VersionBucket, version: string): Promise<LoadedModel> {
  const started = Date.now();
  const { manifest, files, etags } = await readVerifiedVersion(bucket, version);
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
  const policy = manifest.inference ?? plainInference;
  const problem =
    h !== input.height || w !== input.width || c !== input.channels || preprocessing.height !== h || preprocessing.width !== w || units !== classes.length
      ? "network shape does not match the manifest's input/classes"
      : policy.tta === 'dihedral8' && h !== w
        ? 'dihedral test-time averaging needs a square input'
        : null;
  if (problem) {
    model.dispose();
    throw new ModelUnavailableError('model_invalid', `model ${version}: ${problem}`);
  }
  const plan = buildPlan(model, version, [variantCount(policy), h as number, w as number, c as number]);
  const bytes = model.weights.reduce((n, weight) => n + weight.read().size * 4, 0) + (plan?.bytes ?? 0);
  return { manifest, model, plan, loadMs: Date.now() - started, bytes, etags };
}

// Far above float32 reordering noise (~1e-7 on probabilities), far below a difference that matters.
const PLAN_TOLERANCE = 1e-4;

/**
 * The model's folded forward pass, kept only if it gives what `model.predict` gives on a seeded
 * random batch: a folding mistake then costs speed, never a wrong answer. Running both at the
 * batch size requests use also compiles the kernels now rather than in the first device request.
 */
function buildPlan(model: tfl.LayersModel, version: string, shape: [number, number, number, number]): ForwardPlan | null {
  const plan = compileForward(model, { onUnsupported: (reason) => console.info(`model ${version}: ${reason}; it runs with model.predict`) });
  const diff = tf.tidy(() => {
    const x = tf.randomUniform(shape, -2, 2, 'float32', 1) as tf.Tensor4D;
    const expected = model.predict(x) as tf.Tensor;
    return plan ? tf.max(tf.abs(tf.sub(plan(x), expected))).dataSync()[0] : 0;
  });
  if (plan && !(diff <= PLAN_TOLERANCE)) {
    console.warn(`model ${version}: the folded forward pass differs from model.predict by ${diff}; it runs with model.predict`);
    plan.dispose();
    return null;
  }
  return plan;
}
