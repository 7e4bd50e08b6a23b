import { env } from 'cloudflare:test';
import { exports } from 'cloudflare:workers';
import { inject } from 'vitest';
import { parseManifest, type Manifest } from '../../shared/index.ts';
import { createDevice } from '../../worker/devices.ts';
import { publishVersion } from '../../worker/scripts/publish-core.ts';

export const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/** The repository's default model version as provided by the global setup, optionally renamed. */
export function fixtureVersion(rename?: string) {
  const model = inject('model');
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

/** Publishes the fixture model into this test file's R2 bucket with the real publish code. */
export async function publishFixture(rename?: string): Promise<Manifest> {
  const version = fixtureVersion(rename);
  await publishVersion(env.MODELS, version);
  return version.manifest;
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
  if (body.top.label !== body.predictions[0].label || body.top.probability !== probabilities[0]) throw new Error('top is not the first prediction');
  for (const key of ['decodeMs', 'preprocessMs', 'inferMs']) {
    if (typeof body.timing[key] !== 'number' || body.timing[key] < 0) throw new Error(`timing.${key} is ${body.timing[key]}`);
  }
}
