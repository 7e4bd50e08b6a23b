import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../shared/index.ts';
import { publishedRecord } from '../../../worker/models/registry.ts';
import { isPublished, publishVersion } from '../../../scripts/lib/publish-core.ts';
import { fixtureVersion, publishTarget } from '../helpers.ts';

const manifestSha = (version: ReturnType<typeof fixtureVersion>) => sha256Hex(version.manifestBytes as Uint8Array<ArrayBuffer>);

describe('publishVersion (the code behind npm run publish), on the real R2 binding and D1', () => {
  it('writes every file under the version prefix with the manifest, records its digest, and refuses to publish it again', async () => {
    const version = fixtureVersion('pub-1');
    const written: string[] = [];
    expect(await publishVersion(publishTarget(), version, { onFile: (path) => written.push(path) })).toBe('uploaded');
    expect(written.at(-1)).toBe('manifest.json');
    const keys = (await env.MODELS.list({ prefix: 'pub-1/' })).objects.map((o) => o.key).sort();
    expect(keys).toEqual([...version.manifest.files.map((f) => `pub-1/${f.path}`), 'pub-1/manifest.json'].sort());
    expect(await publishedRecord(env.DB, 'pub-1')).toEqual({ sha256: await manifestSha(version), publishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(await isPublished(publishTarget(), version)).toBe(true);
    await expect(publishVersion(publishTarget(), version)).rejects.toThrow(/already published/);
  });

  it('writes no manifest when a file does not match it', async () => {
    const version = fixtureVersion('pub-2');
    const weights = version.files.get('weights.bin')!.slice();
    weights[0] ^= 0xff;
    version.files.set('weights.bin', weights);
    await expect(publishVersion(publishTarget(), version)).rejects.toThrow(/weights\.bin reads back with sha256/);
    expect(await env.MODELS.head('pub-2/manifest.json')).toBeNull();
  });

  it('refuses another manifest under a recorded name, whatever the bucket holds', async () => {
    await publishVersion(publishTarget(), fixtureVersion('pub-3'));
    const other = fixtureVersion('pub-3');
    other.manifestBytes = new TextEncoder().encode(JSON.stringify({ ...other.manifest, name: 'another model' }));
    await expect(publishVersion(publishTarget(), other)).rejects.toThrow(/pub-3 was published with another manifest/);
    await env.MODELS.delete('pub-3/manifest.json');
    await expect(publishVersion(publishTarget(), other)).rejects.toThrow(/pub-3 was published with another manifest/);
  });

  it('records a version published before records were kept when the bucket holds the same manifest, and nothing else', async () => {
    const version = fixtureVersion('pub-4');
    for (const [path, bytes] of version.files) await env.MODELS.put(`pub-4/${path}`, bytes);
    await env.MODELS.put('pub-4/manifest.json', version.manifestBytes);
    expect(await isPublished(publishTarget(), version)).toBe(false);
    expect(await publishVersion(publishTarget(), version)).toBe('recorded');
    expect((await publishedRecord(env.DB, 'pub-4'))?.sha256).toBe(await manifestSha(version));

    await env.MODELS.put('pub-5/manifest.json', new TextEncoder().encode('{"not": "the same"}'));
    await expect(publishVersion(publishTarget(), fixtureVersion('pub-5'))).rejects.toThrow(/another manifest under pub-5 that was never recorded/);
    expect(await publishedRecord(env.DB, 'pub-5')).toBeNull();
  });

  it('restores the recorded manifest and files when the copy in the bucket was changed, keeping the record', async () => {
    const version = fixtureVersion('pub-6');
    await publishVersion(publishTarget(), version);
    const record = await publishedRecord(env.DB, 'pub-6');
    await env.MODELS.put('pub-6/manifest.json', '{"changed": true}');
    await env.MODELS.put('pub-6/weights.bin', new Uint8Array([1, 2, 3]));
    expect(await publishVersion(publishTarget(), version)).toBe('restored');
    expect(await (await env.MODELS.get('pub-6/manifest.json'))!.text()).toBe(new TextDecoder().decode(version.manifestBytes));
    expect(await sha256Hex(await (await env.MODELS.get('pub-6/weights.bin'))!.arrayBuffer())).toBe(version.manifest.files.find((f) => f.path === 'weights.bin')!.sha256);
    expect(await publishedRecord(env.DB, 'pub-6')).toEqual(record);
  });
});
