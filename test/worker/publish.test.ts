import { env } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { publishVersion } from '../../worker/scripts/publish-core.ts';
import { fixtureVersion } from './helpers.ts';

describe('publishVersion (the code behind npm run publish), on the real R2 binding', () => {
  it('writes every file under the version prefix with the manifest, and refuses to publish it again', async () => {
    const version = fixtureVersion('pub-1');
    const written: string[] = [];
    await publishVersion(env.MODELS, version, { onFile: (path) => written.push(path) });
    expect(written.at(-1)).toBe('manifest.json');
    const keys = (await env.MODELS.list({ prefix: 'pub-1/' })).objects.map((o) => o.key).sort();
    expect(keys).toEqual([...version.manifest.files.map((f) => `pub-1/${f.path}`), 'pub-1/manifest.json'].sort());
    await expect(publishVersion(env.MODELS, version)).rejects.toThrow(/already published/);
  });

  it('writes no manifest when a file does not match it', async () => {
    const version = fixtureVersion('pub-2');
    const weights = version.files.get('weights.bin')!.slice();
    weights[0] ^= 0xff;
    version.files.set('weights.bin', weights);
    await expect(publishVersion(env.MODELS, version)).rejects.toThrow(/weights\.bin reads back with sha256/);
    expect(await env.MODELS.head('pub-2/manifest.json')).toBeNull();
  });
});
