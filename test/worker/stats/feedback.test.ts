import { beforeAll, describe, expect, inject, it } from 'vitest';
import { evaluationFromConfusion } from '../../../shared/index.ts';
import { classifySettled, jsonInit, newToken, perturbWeights, publishFixture, settled } from '../helpers.ts';

let admin: string;
let device: string;
let classes: string[];
// Predictions made through the routing split, each with the sample's true label.
const made: { id: string; version: string; predicted: string; truth: string; token: string }[] = [];

const feedback = (token: string, body: unknown) => settled('/v1/feedback', jsonInit(token, 'POST', body));
const stats = async () => Object.fromEntries((await (await settled('/v1/stats', jsonInit(admin, 'GET'))).json<any>()).versions.map((v: any) => [v.version, v]));

beforeAll(async () => {
  classes = (await publishFixture('f-v1')).classes;
  await publishFixture('f-v2', { weights: perturbWeights });
  admin = await newToken(true);
  device = await newToken();
  expect((await settled('/v1/routing', jsonInit(admin, 'PUT', { split: { 'f-v1': 50, 'f-v2': 50 }, salt: 'feedback' }))).status).toBe(200);
  const samples = inject('samples');
  const tokens = [device, ...(await Promise.all(Array.from({ length: 11 }, () => newToken())))];
  for (const [d, token] of tokens.entries()) {
    for (let i = d; i < samples.length; i += 16) {
      const body = await (await classifySettled(token, { sample: i })).json<any>();
      made.push({ id: body.id, version: body.model.version, predicted: body.top.label, truth: samples[i].label, token });
    }
  }
});

describe('POST /v1/feedback', () => {
  it('stores the true class once (201), and the same label again changes nothing (200)', async () => {
    const [first] = made;
    const res = await feedback(first.token, { id: first.id, label: first.truth });
    expect(res.status).toBe(201);
    const body = await res.json<any>();
    expect(body).toEqual({ id: first.id, label: first.truth, version: first.version, predicted: first.predicted, correct: first.predicted === first.truth, recordedAt: expect.any(String) });
    const again = await feedback(first.token, { id: first.id, label: first.truth });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(body);
  });

  it('refuses a different label for the same prediction with 409 and keeps the first', async () => {
    const [first] = made;
    const other = classes.find((c) => c !== first.truth)!;
    const res = await feedback(admin, { id: first.id, label: other });
    expect(res.status).toBe(409);
    const error = (await res.json<any>()).error;
    expect(error.code).toBe('feedback_conflict');
    expect(error.message).toContain(first.truth);
    expect((await feedback(admin, { id: first.id, label: first.truth })).status).toBe(200);
  });

  it.each([
    ['an unknown id', () => ({ id: crypto.randomUUID(), label: 'NEUTROPHIL' }), 404, 'prediction_not_found'],
    ['a label that is not a class', () => ({ id: made[1].id, label: 'PLATELET' }), 422, 'unknown_label'],
    ['no label', () => ({ id: made[1].id }), 400, 'invalid_request'],
    ['a label that is not a string', () => ({ id: made[1].id, label: 3 }), 400, 'invalid_request'],
  ])('refuses %s with %i %s', async (_, body, status, code) => {
    const res = await feedback(admin, body());
    expect(res.status).toBe(status);
    expect((await res.json<any>()).error.code).toBe(code);
  });

  it("refuses another device's prediction with 403; an admin may confirm any", async () => {
    const foreign = made.find((m) => m.token !== device)!;
    expect((await feedback(device, { id: foreign.id, label: foreign.truth })).status).toBe(403);
    expect((await feedback(admin, { id: foreign.id, label: foreign.truth })).status).toBe(201);
  });
});

describe('live accuracy in /v1/stats', () => {
  it('reports per-version accuracy, macro-F1 and the confusion matrix from feedback', async () => {
    for (const m of made) expect([200, 201]).toContain((await feedback(admin, { id: m.id, label: m.truth })).status);
    const versions = await stats();
    for (const version of ['f-v1', 'f-v2']) {
      const mine = made.filter((m) => m.version === version);
      expect(mine.length).toBeGreaterThan(0);
      const confusion = classes.map((truth) => classes.map((predicted) => mine.filter((m) => m.truth === truth && m.predicted === predicted).length));
      const expected = evaluationFromConfusion(classes, confusion);
      const live = versions[version].feedback;
      expect(live).toMatchObject({ count: mine.length, classes, confusion });
      expect(live.accuracy).toBeCloseTo(mine.filter((m) => m.truth === m.predicted).length / mine.length, 12);
      expect(live.macroF1).toBeCloseTo(expected.macroF1, 12);
      expect(live.perClass).toEqual(expected.perClass);
      console.log(`feedback: ${version} live accuracy ${(live.accuracy * 100).toFixed(1)}% over ${live.count}, macro-F1 ${live.macroF1.toFixed(3)}`);
    }
  });

  it('a refused conflicting label does not change the figures', async () => {
    const before = await stats();
    const m = made[2];
    expect((await feedback(admin, { id: m.id, label: classes.find((c) => c !== m.truth) })).status).toBe(409);
    expect(await stats()).toEqual(before);
  });
});
