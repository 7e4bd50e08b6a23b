import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { publishVersion } from '../../../scripts/lib/publish-core.ts';
import { fixtureVersion, jsonInit, manifestChanges, newToken, publishFixture, publishTarget, rewriteManifest, sampleBytes, settled } from '../helpers.ts';

// Re-check every second, so what the bucket holds now shows within a second.
const vars = { MODEL_RECHECK_SECONDS: '1' };
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let admin: string;
let device: string;

const classifyAs = (token: string, pin?: string) =>
  settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', ...(pin ? { 'x-model-version': pin } : {}) }, body: sampleBytes(0) }, vars);
const listed = async () => ((await (await settled('/v1/models', jsonInit(admin, 'GET'), vars)).json()) as { models: any[] }).models;

beforeAll(async () => {
  await publishFixture('id-old');
  admin = await newToken(true);
  device = await newToken();
});

describe("a manifest changed in the bucket is never served: the version's identity is the digest recorded at publish", () => {
  it.each(manifestChanges)('%s: 503 model_integrity within the recheck interval, unpinned traffic moves to the healthy version, listed invalid and not default', async (_, change) => {
    const version = `id-${crypto.randomUUID().slice(0, 8)}`;
    await publishFixture(version);
    // Resident and the default (the newest publish) before the change.
    expect((await classifyAs(admin, version)).status).toBe(200);
    expect((await classifyAs(device)).headers.get('x-model-version')).toBe(version);

    await rewriteManifest(version, change);
    await wait(1100);
    const pinned = await classifyAs(admin, version);
    expect(pinned.status).toBe(503);
    expect((await pinned.json<any>()).error).toEqual({ code: 'model_integrity', message: expect.stringContaining(`model ${version}: manifest.json is not the one published`) });
    const unpinned = await classifyAs(device);
    expect(unpinned.status).toBe(200);
    expect(unpinned.headers.get('x-model-version')).not.toBe(version);

    const models = await listed();
    expect(models.find((m) => m.version === version)).toMatchObject({ status: 'invalid', default: false, reason: expect.stringContaining('not the one published') });
    expect(models.filter((m) => m.default)).toEqual([expect.objectContaining({ version: unpinned.headers.get('x-model-version'), status: expect.stringMatching(/^(ready|published)$/) })]);

    // The trainer's folder still holds the manifest that was published: publishing restores it.
    await publishVersion(publishTarget(), fixtureVersion(version));
    await wait(1100);
    expect((await classifyAs(admin, version)).status).toBe(200);
    expect((await listed()).find((m) => m.version === version)).toMatchObject({ status: 'ready', default: true });
  });

  it('a version put into the bucket without `npm run publish` is never served nor default, however new', async () => {
    const { manifest, files } = fixtureVersion('id-unrecorded');
    for (const [path, bytes] of files) await env.MODELS.put(`id-unrecorded/${path}`, bytes);
    await env.MODELS.put('id-unrecorded/manifest.json', JSON.stringify(manifest));
    await wait(1100);
    const res = await classifyAs(admin, 'id-unrecorded');
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error).toEqual({ code: 'model_integrity', message: expect.stringContaining('was never recorded by `npm run publish`') });
    expect((await classifyAs(device)).headers.get('x-model-version')).not.toBe('id-unrecorded');
    expect((await listed()).find((m) => m.version === 'id-unrecorded')).toMatchObject({ status: 'invalid', default: false });
    const put = await settled('/v1/routing', jsonInit(admin, 'PUT', { split: { 'id-unrecorded': 100 } }));
    expect(put.status).toBe(422);
    expect((await put.json<any>()).error.code).toBe('unverified_version');
  });

  it('a resident version whose record in D1 is gone stops answering within the recheck interval', async () => {
    await publishFixture('id-record');
    expect((await classifyAs(admin, 'id-record')).status).toBe(200);
    await env.DB.prepare('DELETE FROM model_versions WHERE version = ?').bind('id-record').run();
    await wait(1100);
    const res = await classifyAs(admin, 'id-record');
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error.code).toBe('model_integrity');
  });

  it('with MODEL_VERSION naming a changed version, unpinned requests get its 503 and no version is default', async () => {
    await publishFixture('id-configured');
    await rewriteManifest('id-configured', manifestChanges[0][1]);
    const configured = { ...vars, MODEL_VERSION: 'id-configured' };
    const res = await settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${device}`, 'content-type': 'image/jpeg' }, body: sampleBytes(0) }, configured);
    expect(res.status).toBe(503);
    expect((await res.json<any>()).error.code).toBe('model_integrity');
    const { models } = await (await settled('/v1/models', jsonInit(admin, 'GET'), configured)).json<{ models: any[] }>();
    expect(models.filter((m) => m.default)).toEqual([]);
  });
});
