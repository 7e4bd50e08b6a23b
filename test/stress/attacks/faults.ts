import { env } from 'cloudflare:test';
import { inject } from 'vitest';
import { sha256Hex } from '../../../shared/index.ts';
import { publishVersion } from '../../../scripts/lib/publish-core.ts';
import { fixtureVersion, manifestChanges, perturbWeights, publishFixture, publishTarget, rewriteManifest } from '../../worker/helpers.ts';

export interface FaultResult {
  name: string;
  survived: boolean;
  detail: string;
}

type Send = (path: string, init: RequestInit, vars?: Partial<Env>) => Promise<Response>;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each fault: inject it, then check that pinned requests to the damaged version get a JSON 503 (or
 * 404 for a version that was never completely published), never a 200 or 500, while unpinned
 * requests keep being answered by the healthy versions; where it says, with a given error code,
 * and listed by /v1/models as invalid and not default.
 */
export async function runFaults(admin: string, device: string, tiny: Uint8Array<ArrayBuffer>, send: Send): Promise<FaultResult[]> {
  const results: FaultResult[] = [];
  const classify = (pin: string | null, vars?: Partial<Env>) =>
    send('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${pin ? admin : device}`, 'content-type': 'image/png', ...(pin ? { 'x-model-version': pin } : {}) }, body: tiny }, vars);
  const statusOf = async (res: Response) => `${res.status}:${((await res.json().catch(() => ({}))) as any)?.error?.code ?? 'ok'}`;
  const healthy = async () => (await Promise.all([1, 2, 3].map(async () => (await classify(null)).status))).every((s) => s === 200);

  const listing = async (version: string) => {
    const { models } = (await (await send('/v1/models', { headers: { authorization: `Bearer ${admin}` } })).json()) as { models: { version: string; status: string; default: boolean }[] };
    const listed = models.find((m) => m.version === version);
    return { listed: `listed ${listed?.status}${listed?.default ? ', default' : ''}`, refused: listed?.status === 'invalid' && !listed.default };
  };

  /** `allowed`: statuses, or `status:code`; `listedInvalid`: /v1/models must show it invalid and not default. */
  async function fault(name: string, inject: () => Promise<void>, pin: string, allowed: string[], vars?: Partial<Env>, listedInvalid = false) {
    const warm = await statusOf(await classify(pin));
    await inject();
    await wait(1200); // MODEL_RECHECK_SECONDS is 1 in the stress config
    const after = [];
    for (let i = 0; i < 3; i++) after.push(await statusOf(await classify(pin, vars)));
    const up = await healthy();
    const { listed, refused } = await listing(pin);
    const answered = after.every((s) => allowed.includes(s) || allowed.includes(s.split(':')[0]));
    results.push({ name, survived: up && answered && (refused || !listedInvalid), detail: `warm ${warm}, then ${after.join(' ')}, ${listed}, healthy versions ${up ? 'up' : 'DOWN'}` });
  }

  const publish = async (name: string) => publishVersion(publishTarget(), fixtureVersion(name));
  await publish('f-alter');
  await fault('weight file altered while serving', async () => {
    const bytes = perturbWeights(new Uint8Array(await (await env.MODELS.get('f-alter/weights.bin'))!.arrayBuffer()));
    await env.MODELS.put('f-alter/weights.bin', bytes);
  }, 'f-alter', ['503']);

  await publish('f-delete');
  await fault('weight file deleted while serving', () => env.MODELS.delete('f-delete/weights.bin'), 'f-delete', ['503']);

  await fault('manifest pointing at a missing file', async () => {
    const version = fixtureVersion('f-missing');
    const manifest = { ...version.manifest, files: [...version.manifest.files, { path: 'extra.bin', bytes: 10, sha256: '0'.repeat(64) }] };
    for (const [path, bytes] of version.files) await env.MODELS.put(`f-missing/${path}`, bytes);
    await env.MODELS.put('f-missing/manifest.json', JSON.stringify(manifest));
  }, 'f-missing', ['503', '404']);

  // The manifest rewritten in the bucket: covered by no file's sha256, only by its digest in D1.
  for (const [i, [change, edit]] of manifestChanges.entries()) {
    await publish(`f-manifest-${i}`);
    await fault(`manifest.json changed in the bucket: ${change}`, () => rewriteManifest(`f-manifest-${i}`, edit), `f-manifest-${i}`, ['503:model_integrity'], undefined, true);
  }
  // Changed in the bucket and its digest in D1 written to match (both stores in one hand): the
  // answer to the pixel test the trainer recorded gives it away.
  await publishFixture('f-pixel', { patch: { pixelTest: inject('pixelTest') } });
  await fault('manifest.json changed and its digest in D1 too: the pixel test', async () => {
    await rewriteManifest('f-pixel', manifestChanges[1][1]);
    const sha256 = await sha256Hex(await (await env.MODELS.get('f-pixel/manifest.json'))!.arrayBuffer());
    await env.DB.prepare('UPDATE model_versions SET manifest_sha256 = ? WHERE version = ?').bind(sha256, 'f-pixel').run();
  }, 'f-pixel', ['503:model_integrity'], undefined, true);
  await fault('a whole version put into the bucket without npm run publish', async () => {
    const { manifest, files } = fixtureVersion('f-unrecorded');
    for (const [path, bytes] of files) await env.MODELS.put(`f-unrecorded/${path}`, bytes);
    await env.MODELS.put('f-unrecorded/manifest.json', JSON.stringify(manifest));
  }, 'f-unrecorded', ['503:model_integrity'], undefined, true);

  // R2 failing a share of reads: a wrapped binding that throws on every third get.
  await publish('f-flaky');
  let reads = 0;
  const MODELS = new Proxy(env.MODELS, {
    get: (target, key) => {
      if (key === 'get') return (...args: Parameters<R2Bucket['get']>) => (++reads % 3 === 0 ? Promise.reject(new Error('R2 internal error (injected)')) : target.get(...args));
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  {
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await statusOf(await classify('f-flaky', { MODELS })));
    const ok = seen.every((s) => ['200', '503'].includes(s.split(':')[0])) && (await healthy());
    results.push({ name: 'R2 failing a third of reads', survived: ok, detail: seen.join(' ') });
  }

  // A publish killed after its first file, then run again.
  {
    const version = fixtureVersion('f-half');
    let puts = 0;
    const dying = { head: (k: string) => env.MODELS.head(k), get: (k: string) => env.MODELS.get(k), put: (k: string, v: Uint8Array) => (++puts > 1 ? Promise.reject(new Error('killed')) : env.MODELS.put(k, v)) };
    const killed = await publishVersion(publishTarget(dying), version).then(() => 'completed', () => 'killed');
    const between = await statusOf(await classify('f-half'));
    await publishVersion(publishTarget(), version);
    const rerun = await statusOf(await classify('f-half'));
    results.push({ name: 'publish killed half-way and rerun', survived: killed === 'killed' && between.startsWith('404') && rerun === '200:ok', detail: `${killed}, then ${between}, rerun ${rerun}` });
  }

  // Two routing changes made from the same state: one wins, the other is a 409; history grows by one.
  {
    const put = (split: Record<string, number>) => send('/v1/routing', { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ split }) });
    const before = ((await (await send('/v1/routing', { headers: { authorization: `Bearer ${admin}` } })).json()) as any).history.length;
    const statuses = (await Promise.all([put({ 's-a': 100 }), put({ 's-c': 100 })])).map((r) => r.status).sort();
    const after = ((await (await send('/v1/routing', { headers: { authorization: `Bearer ${admin}` } })).json()) as any).history.length;
    results.push({ name: 'routing writes racing', survived: statuses.join() === '200,409' && after === before + 1 && (await healthy()), detail: `statuses ${statuses.join(',')}, history ${before} -> ${after}` });
  }

  // A version of the split whose manifest is changed while it serves: its share goes to the healthy one.
  {
    await publish('f-split');
    const put = await send('/v1/routing', { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ split: { 's-a': 50, 'f-split': 50 }, sticky: false }) });
    const before = new Set<string | null>();
    for (let i = 0; i < 10; i++) before.add((await classify(null)).headers.get('x-model-version'));
    await rewriteManifest('f-split', manifestChanges[0][1]);
    await wait(1200);
    const after = [];
    for (let i = 0; i < 10; i++) after.push((await classify(null)).headers.get('x-model-version'));
    const { listed, refused } = await listing('f-split');
    const survived = put.status === 200 && before.has('f-split') && after.every((v) => v === 's-a') && refused;
    results.push({ name: 'manifest changed in a version of the split', survived, detail: `PUT ${put.status}, answered by ${[...before].join(',')} before and ${[...new Set(after)].join(',')} after, ${listed}` });
  }

  // A split that includes the damaged version: its share goes to the healthy one.
  {
    const put = await send('/v1/routing', { method: 'PUT', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ split: { 's-a': 50, 'f-alter': 50 }, sticky: false }) });
    const versions = [];
    for (let i = 0; i < 10; i++) versions.push((await classify(null)).headers.get('x-model-version'));
    results.push({ name: 'split including the damaged version', survived: versions.every((v) => v === 's-a'), detail: `PUT ${put.status}, answered by ${[...new Set(versions)].join(',')}` });
  }
  return results;
}
