import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { findVersion, readVerifiedVersion, type VersionBucket } from '../../../worker/models/store.ts';
import { newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

let admin: string;
beforeAll(async () => {
  admin = await newToken(true);
});

const pinned = (version: string, vars: Partial<Env>) =>
  settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'image/jpeg', 'x-model-version': version }, body: sampleBytes(0) }, vars);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('version lookups cached per isolate', () => {
  it('a version deleted from the bucket stops answering within MODEL_RECHECK_SECONDS', async () => {
    const vars = { MODEL_RECHECK_SECONDS: '1' };
    await publishFixture('short-lived');
    expect((await pinned('short-lived', vars)).status).toBe(200);
    const listed = await env.MODELS.list({ prefix: 'short-lived/' });
    await env.MODELS.delete(listed.objects.map((o) => o.key));
    await wait(1100);
    const res = await pinned('short-lived', vars);
    expect(res.status).toBe(404);
    expect((await res.json<any>()).error.code).toBe('model_not_found');
  });

  it('a version published after a miss answers at once: misses are not cached', async () => {
    expect((await pinned('late-comer', {})).status).toBe(404);
    await publishFixture('late-comer');
    expect((await pinned('late-comer', {})).status).toBe(200);
  });
});

describe('a version name the client chose is echoed bounded', () => {
  const long = `v${'x'.repeat(9_999)}`;
  const shown = `"${long.slice(0, 80)}…" (10000 characters)`;
  const device = () => newToken(false);
  it.each([
    { what: 'an admin pin of an unpublished version', token: () => Promise.resolve(admin), headers: { 'x-model-version': long }, query: '', status: 404, message: `model version ${shown} is not published` },
    { what: 'a device pin it may not make', token: device, headers: { 'x-model-version': long }, query: '', status: 403, message: `this token may not choose model version ${shown}; an admin can list it for the device (pins)` },
    { what: 'a header and query that disagree', token: () => Promise.resolve(admin), headers: { 'x-model-version': long }, query: `?version=${long}y`, status: 400, message: `X-Model-Version ${shown} and ?version="${long.slice(0, 80)}…" (10001 characters) name different versions; send one` },
  ])('$what: $status with the name cut to 80 characters', async ({ token, headers, query, status, message }) => {
    const res = await settled(`/v1/classify${query}`, { method: 'POST', headers: { authorization: `Bearer ${await token()}`, 'content-type': 'image/jpeg', ...headers }, body: sampleBytes(0) });
    expect(res.status).toBe(status);
    expect((await res.json<any>()).error.message).toBe(message);
  });
});

/** The local bucket, with the keys it was asked to get. */
function watchGets(): { bucket: VersionBucket; gets: string[] } {
  const gets: string[] = [];
  const bucket: VersionBucket = {
    head: (key) => env.MODELS.head(key),
    list: (options) => env.MODELS.list(options),
    get: (key) => (gets.push(key), env.MODELS.get(key)),
  };
  return { bucket, gets };
}

describe('a version looked up is loaded from the manifest the look-up read', () => {
  it('findVersion returns the manifest under its etag; loading from it reads only the other files', async () => {
    const published = await publishFixture('read-once');
    const stored = await findVersion(env.MODELS, 'read-once');
    const object = await env.MODELS.get('read-once/manifest.json');
    expect(stored?.etag).toBe(object?.etag);
    expect(new TextDecoder().decode(stored?.manifestBytes)).toBe(await object?.text());

    const { bucket: watched, gets } = watchGets();
    const { manifest } = await readVerifiedVersion({ MODELS: watched, DB: env.DB }, 'read-once', stored ?? undefined);
    expect(manifest).toEqual(published);
    const others = published.files.filter((f) => f.path !== 'report.html').map((f) => `read-once/${f.path}`);
    expect(gets.sort()).toEqual(others.sort());
  });

  it('without the bytes, loading reads the manifest itself; a name never published is null', async () => {
    await publishFixture('read-twice');
    const { bucket: watched, gets } = watchGets();
    await readVerifiedVersion({ MODELS: watched, DB: env.DB }, 'read-twice');
    expect(gets).toContain('read-twice/manifest.json');
    expect(await findVersion(env.MODELS, 'never-published')).toBeNull();
    expect(await findVersion(env.MODELS, '../bad name')).toBeNull();
  });
});
