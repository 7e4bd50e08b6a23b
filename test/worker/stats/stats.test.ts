import { beforeAll, describe, expect, it } from 'vitest';
import { classifySettled, jsonInit, newToken, perturbWeights, publishFixture, sampleBytes, settled } from '../helpers.ts';

let admin: string;
let devices: string[];
let since: string;
const SAMPLES = [0, 35, 70, 105, 140, 175];
// What each version answers for each sample when asked directly (pinned).
const direct: Record<string, Record<number, any>> = {};
const answers: { sample: number; version: string; body: any }[] = [];

const stats = async (query = '') => (await settled(`/v1/stats${query}`, jsonInit(admin, 'GET'))).json<any>();
const byVersion = (body: any) => Object.fromEntries(body.versions.map((v: any) => [v.version, v]));
const tally = (values: string[]) => values.reduce<Record<string, number>>((t, v) => ({ ...t, [v]: (t[v] ?? 0) + 1 }), {});

beforeAll(async () => {
  await publishFixture('s-v1');
  await publishFixture('s-v2', { weights: perturbWeights });
  await publishFixture('s-v3', { weights: (b) => b.map((x, i) => (i % 5 === 0 ? (x + 90) & 0xff : x)) });
  admin = await newToken(true);
  devices = await Promise.all(Array.from({ length: 8 }, () => newToken()));
  for (const version of ['s-v1', 's-v2', 's-v3']) {
    direct[version] = {};
    for (const sample of SAMPLES) direct[version][sample] = await (await classifySettled(admin, { sample, pin: version })).json();
  }
  await new Promise((r) => setTimeout(r, 20));
  since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  const put = await settled('/v1/routing', jsonInit(admin, 'PUT', { split: { 's-v1': 50, 's-v2': 50 }, shadow: 's-v3', salt: 'stats' }));
  expect(put.status).toBe(200);
  for (const [d, token] of devices.entries()) {
    for (const sample of SAMPLES.filter((_, i) => (i + d) % 2 === 0)) {
      const res = await classifySettled(token, { sample });
      expect(res.status).toBe(200);
      const body = await res.json<any>();
      expect(res.headers.get('x-model-version')).toBe(body.model.version);
      answers.push({ sample, version: body.model.version, body });
    }
  }
});

describe('with a shadow version set', () => {
  it('every response comes from a primary version, exactly as that version answers alone', () => {
    expect(answers).toHaveLength(24);
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set(['s-v1', 's-v2']));
    for (const { sample, version, body } of answers) {
      expect(body.predictions).toEqual(direct[version][sample].predictions);
    }
  });

  it('/v1/stats counts the answers per version: requests, classes, mean top probability, latency', async () => {
    const body = await stats(`?since=${since}`);
    expect(body.since).toBe(since);
    const versions = byVersion(body);
    expect(Object.keys(versions).sort()).toEqual(['s-v1', 's-v2', 's-v3']);
    for (const version of ['s-v1', 's-v2']) {
      const mine = answers.filter((a) => a.version === version);
      const v = versions[version];
      expect(v).toMatchObject({ requests: mine.length, errors: 0, errorsByCode: {}, fallbacks: { answeredFor: 0, sentElsewhere: 0 }, review: mine.filter((a) => a.body.review).length, shadow: null, feedback: null });
      expect(v.predictedClasses).toEqual(tally(mine.map((a) => a.body.top.label)));
      const mean = mine.reduce((n, a) => n + a.body.top.probability, 0) / mine.length;
      expect(v.meanTopProbability).toBeCloseTo(mean, 9);
      expect(v.latencyMs.p50).toBeGreaterThanOrEqual(0);
      expect(v.latencyMs.p95).toBeGreaterThanOrEqual(v.latencyMs.p50);
    }
  });

  it('/v1/stats shows the shadow results and their agreement with the answers given', async () => {
    const shadowVersion = byVersion(await stats(`?since=${since}`))['s-v3'];
    expect(shadowVersion.requests).toBe(0);
    const expectedLabels = answers.map((a) => direct['s-v3'][a.sample].top.label);
    const agreed = answers.filter((a, i) => a.body.top.label === expectedLabels[i]).length;
    console.log(`shadow: s-v3 agreed with the answering version on ${agreed} of ${answers.length} images`);
    expect(shadowVersion.shadow).toMatchObject({ runs: answers.length, errors: 0, agreed, agreement: agreed / answers.length, feedback: null });
    expect(shadowVersion.shadow.predictedClasses).toEqual(tally(expectedLabels));
    expect(shadowVersion.shadow.latencyMs.p95).toBeGreaterThanOrEqual(shadowVersion.shadow.latencyMs.p50);
    const mean = answers.reduce((n, a) => n + direct['s-v3'][a.sample].top.probability, 0) / answers.length;
    expect(shadowVersion.shadow.meanTopProbability).toBeCloseTo(mean, 9);
  });

  it('a batch runs every answered part on the shadow too', async () => {
    const before = byVersion(await stats())['s-v3'].shadow.runs;
    const form = new FormData();
    for (const sample of [0, 35]) form.append('image', new File([sampleBytes(sample)], `${sample}.jpeg`, { type: 'image/jpeg' }));
    form.append('image', new File([new Uint8Array([1, 2, 3])], 'junk.jpeg', { type: 'image/jpeg' }));
    const res = await settled('/v1/classify/batch', { method: 'POST', headers: { authorization: `Bearer ${devices[0]}` }, body: form });
    expect(res.status).toBe(200);
    expect(byVersion(await stats())['s-v3'].shadow.runs).toBe(before + 2);
  });

  it('an image that cannot be decoded counts as an error of the version it was routed to', async () => {
    const version = (await classifySettled(devices[1])).headers.get('x-model-version')!;
    const before = byVersion(await stats())[version];
    const res = await settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${devices[1]}`, 'content-type': 'image/jpeg' }, body: new Uint8Array(64) });
    expect(res.status).toBe(400);
    const after = byVersion(await stats())[version];
    expect(after.errors).toBe(before.errors + 1);
    expect(after.errorsByCode.invalid_image).toBe((before.errorsByCode.invalid_image ?? 0) + 1);
    expect(after.requests).toBe(before.requests + 1);
  });
});

describe('GET /v1/stats', () => {
  it('counts nothing since a time in the future', async () => {
    expect((await stats('?since=2999-01-01T00:00:00Z')).versions).toEqual([]);
  });

  it('counts everything without since, the pinned requests too', async () => {
    const body = await stats();
    expect(body.since).toBeNull();
    expect(byVersion(body)['s-v3'].requests).toBe(SAMPLES.length);
  });

  it.each([
    ['an invalid since', '?since=yesterday', 400],
    ['a device token', '', 403],
  ])('refuses %s', async (_, query, status) => {
    const res = await settled(`/v1/stats${query}`, jsonInit(status === 403 ? devices[0] : admin, 'GET'));
    expect(res.status).toBe(status);
    expect((await res.json<any>()).error.message).toEqual(expect.any(String));
  });
});
