import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { newToken, publishFixture, sampleBytes, settled } from './helpers.ts';

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
