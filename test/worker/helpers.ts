import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import worker from '../../worker/index.ts';
import { inject } from 'vitest';
import { parseManifest, sha256Hex, type Manifest } from '../../shared/index.ts';
import type * as tfl from '@tensorflow/tfjs-layers';
import { tf } from '../../worker/inference/backend.ts';
import { createDevice } from '../../worker/devices/store.ts';
import type { SavedModel } from '../../worker/inference/neural-network.ts';
import { d1Registry } from '../../worker/models/registry.ts';
import { publishVersion, type ModelBucket, type PublishTarget } from '../../scripts/lib/publish-core.ts';

export const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The repository's default model version (or another fixture model) as provided by the global setup, optionally renamed. */
export function fixtureVersion(rename?: string, model = inject('model')) {
  const manifest: Manifest = parseManifest(JSON.parse(new TextDecoder().decode(fromBase64(model.manifestBase64))));
  const manifestBytes = rename
    ? new TextEncoder().encode(JSON.stringify({ ...manifest, version: rename }))
    : fromBase64(model.manifestBase64);
  return {
    manifest: rename ? { ...manifest, version: rename } : manifest,
    manifestBytes,
    files: new Map(Object.entries(model.files).map(([path, text]) => [path, fromBase64(text)])),
  };
}

export interface FixtureOptions {
  /** Fields to set in the manifest (e.g. an inference policy). */
  patch?: Partial<Manifest>;
  /** Other weights: the manifest's size and sha256 for weights.bin are updated to match, and its self-test dropped (it recorded the original weights). */
  weights?: (bytes: Uint8Array) => Uint8Array<ArrayBuffer>;
}

/** This test file's R2 bucket (or a wrapper of it) and D1 database, as `npm run publish -- --local` writes them. */
export const publishTarget = (bucket: ModelBucket = env.MODELS): PublishTarget => ({ bucket, registry: d1Registry(env.DB) });

/** Publishes the fixture model into this test file's R2 bucket with the real publish code. */
export async function publishFixture(rename?: string, options: FixtureOptions = {}): Promise<Manifest> {
  const version = fixtureVersion(rename);
  if (options.patch || options.weights) {
    const files = version.manifest.files.map((f) => ({ ...f }));
    if (options.weights) {
      const bytes = options.weights(version.files.get('weights.bin')!);
      version.files.set('weights.bin', bytes);
      Object.assign(files.find((f) => f.path === 'weights.bin')!, { bytes: bytes.length, sha256: await sha256Hex(bytes) });
    }
    const selfTest = options.weights ? undefined : version.manifest.selfTest;
    // Other weights or another inference policy answer the recorded photo differently: a patch
    // keeps a pixel test only when it brings its own.
    version.manifest = { ...version.manifest, selfTest, pixelTest: undefined, ...options.patch, files };
    version.manifestBytes = new TextEncoder().encode(JSON.stringify(version.manifest));
  }
  await publishVersion(publishTarget(), version);
  return version.manifest;
}

/** Rewrites a published version's manifest.json in the bucket, as `wrangler r2 object put` would. */
export async function rewriteManifest(version: string, change: (manifest: Manifest) => Manifest): Promise<void> {
  const manifest = (await (await env.MODELS.get(`${version}/manifest.json`))!.json()) as Manifest;
  await env.MODELS.put(`${version}/manifest.json`, JSON.stringify(change(manifest)));
}

/** Changes to a manifest that no file's sha256 covers and a self-test on normalised inputs does not see. */
export const manifestChanges: [string, (m: Manifest) => Manifest][] = [
  ['two classes swapped', (m) => ({ ...m, classes: [m.classes[1], m.classes[0], ...m.classes.slice(2)] })],
  ['mean and std changed', (m) => ({ ...m, preprocessing: { ...m.preprocessing, mean: [0.4, 0.4, 0.4], std: [0.3, 0.3, 0.3] } })],
  ['review threshold changed', (m) => ({ ...m, inference: { ...m.inference!, reviewThreshold: 0.01 } })],
];

/**
 * Other quantised weights: every 7th byte of the fixture's uint8 kernels shifted, so the model
 * answers differently. Its float32 vectors (batch norm statistics, biases) are left alone: a shifted
 * byte there can make a value NaN or infinite, a broken model rather than another one.
 */
export function perturbWeights(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const topology = JSON.parse(new TextDecoder().decode(fixtureVersion().files.get('model.json')));
  const specs: { shape: number[]; quantization?: { dtype: string } }[] = topology.weightsManifest.flatMap((group: { weights: unknown[] }) => group.weights);
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const spec of specs) {
    const dtype = spec.quantization?.dtype;
    const width = dtype === 'uint8' ? 1 : dtype ? 2 : 4;
    const count = spec.shape.reduce((a, b) => a * b, 1);
    // Every 7th value, in a byte that moves it visibly: the value, a 16-bit value's high byte, a float32's upper mantissa.
    const at = width === 1 ? 0 : width === 2 ? 1 : 2;
    for (let e = 0; e < count; e += 7) out[offset + e * width + at] = (out[offset + e * width + at] + 40) & 0xff;
    offset += count * width;
  }
  // A perturbation that changed nothing would let the tests built on it pass for nothing.
  if (out.every((v, i) => v === bytes[i])) throw new Error('perturbWeights: no weight changed');
  return out;
}

let devices = 0;
/** A fresh device (or admin) token in this test file's D1 database. */
export async function newToken(admin = false): Promise<string> {
  return (await createDevice(env.DB, `${admin ? 'admin' : 'device'}-${++devices}`, admin)).token;
}

/** A request to the Worker under test, through its real fetch handler. */
export function call(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://worker.test${path}`, init));
}

/**
 * A request through the Worker's fetch handler that also waits for the work it leaves to
 * `waitUntil` (statistics, shadow runs); `vars` overrides wrangler.toml vars for this call.
 */
export async function settled(path: string, init: RequestInit = {}, vars: Partial<Env> = {}): Promise<Response> {
  return (await timedSettled(path, init, vars)).res;
}

/** `settled`, with how long the answer took until its body was read (the work left to `waitUntil` apart). */
export async function timedSettled(path: string, init: RequestInit = {}, vars: Partial<Env> = {}): Promise<{ res: Response; ms: number }> {
  const ctx = createExecutionContext();
  const started = Date.now();
  const res = await worker.fetch(new Request(`http://worker.test${path}`, init), { ...env, ...vars }, ctx);
  // Read the body first: the handler may still be streaming it when waitUntil work starts.
  // A 204 has none, and rebuilding it with even an empty one makes workerd warn.
  const body = res.body === null ? null : await res.arrayBuffer();
  const ms = Date.now() - started;
  await waitOnExecutionContext(ctx);
  return { res: new Response(body, res), ms };
}

/** A JSON request with a bearer token. */
export function jsonInit(token: string, method: string, body?: unknown): RequestInit {
  return {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** Classifies one sample through `settled`, optionally pinning a version with the header. */
export function classifySettled(token: string, options: { sample?: number; pin?: string; vars?: Partial<Env> } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' };
  if (options.pin) headers['x-model-version'] = options.pin;
  return settled('/v1/classify', { method: 'POST', headers, body: sampleBytes(options.sample ?? 0) }, options.vars);
}

export function classify(bytes: Uint8Array | string | null, token: string | null, options: { type?: string | null; query?: string } = {}) {
  const headers = new Headers();
  if (token) headers.set('authorization', `Bearer ${token}`);
  const type = options.type === undefined ? 'image/jpeg' : options.type;
  if (type) headers.set('content-type', type);
  return call(`/v1/classify${options.query ?? ''}`, { method: 'POST', headers, body: bytes });
}

export function sampleBytes(index = 0): Uint8Array {
  return fromBase64(inject('samples')[index].base64);
}

/** The shape every classification has, checked field by field. */
export function expectClassification(body: any, classes: string[], version: string): void {
  if (typeof body.id !== 'string' || !/^[0-9a-f-]{36}$/.test(body.id)) throw new Error(`bad id ${body.id}`);
  if (body.model.version !== version) throw new Error(`model version ${body.model.version}, expected ${version}`);
  const labels = body.predictions.map((p: { label: string }) => p.label);
  if (labels.length !== classes.length || [...labels].sort().join() !== [...classes].sort().join()) {
    throw new Error(`predictions cover ${labels.join(',')}, expected ${classes.join(',')}`);
  }
  const probabilities: number[] = body.predictions.map((p: { probability: number }) => p.probability);
  const sum = probabilities.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-5) throw new Error(`probabilities sum to ${sum}`);
  if (probabilities.some((p, i) => i > 0 && p > probabilities[i - 1])) throw new Error('predictions are not sorted');
  if (typeof body.review !== 'boolean') throw new Error(`review is ${body.review}`);
  if (!Array.isArray(body.reasons) || body.reasons.some((r: string) => r !== 'low_confidence' && r !== 'out_of_domain')) throw new Error(`reasons are ${JSON.stringify(body.reasons)}`);
  if (body.review !== body.reasons.length > 0) throw new Error(`review ${body.review} with reasons ${JSON.stringify(body.reasons)}`);
  if (body.domainScore !== null && !(typeof body.domainScore === 'number' && body.domainScore >= 0)) throw new Error(`domainScore is ${body.domainScore}`);
  if (body.top.label !== body.predictions[0].label || body.top.probability !== probabilities[0]) throw new Error('top is not the first prediction');
  for (const key of ['decodeMs', 'preprocessMs', 'inferMs']) {
    if (typeof body.timing[key] !== 'number' || body.timing[key] < 0) throw new Error(`timing.${key} is ${body.timing[key]}`);
  }
}

/** A layers model as its model.json and weights.bin would hold it. */
export async function savedOf(model: tfl.LayersModel): Promise<SavedModel> {
  let saved: SavedModel | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = { modelTopology: a.modelTopology as object, weightSpecs: a.weightSpecs!, weightData: a.weightData as ArrayBuffer };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return saved!;
}
