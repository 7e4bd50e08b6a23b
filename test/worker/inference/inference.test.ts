import { beforeAll, describe, expect, inject, it } from 'vitest';
import { applyTemperature } from '../../../shared/index.ts';
import { classifySettled, fixtureVersion, fromBase64, jsonInit, newToken, publishFixture, settled } from '../helpers.ts';

let admin: string;
let classes: string[];

const inOrder = (body: any) => classes.map((label) => body.predictions.find((p: any) => p.label === label).probability as number);
async function classifyPng(base64: string, version: string) {
  const headers = { authorization: `Bearer ${admin}`, 'content-type': 'image/png', 'x-model-version': version };
  const res = await settled('/v1/classify', { method: 'POST', headers, body: fromBase64(base64) });
  expect(res.status).toBe(200);
  return res.json<any>();
}

beforeAll(async () => {
  // The default model carries a policy of its own: 'i-plain' strips it to the raw model. All three
  // crop the full frame, because a stain-centred window is located on a 4-pixel grid, so a mirrored
  // photo's window is not exactly the mirror of the original's, and the TTA check must be exact.
  // The network never saw whole frames, so its features would put them out of domain: these
  // versions leave the domain profile out, to show the inference policy alone.
  const { preprocessing } = fixtureVersion().manifest;
  const full = { ...preprocessing, crop: 'full' as const };
  classes = (await publishFixture('i-plain', { patch: { inference: undefined, domain: undefined, preprocessing: full } })).classes;
  await publishFixture('i-temp', { patch: { inference: { tta: 'none', temperature: 2, reviewThreshold: 0.9 }, domain: undefined, preprocessing: full } });
  await publishFixture('i-tta', { patch: { inference: { tta: 'dihedral8', temperature: 1, reviewThreshold: 0 }, domain: undefined, preprocessing: full } });
  admin = await newToken(true);
});

describe("the manifest's inference policy", () => {
  it('without one, probabilities are the model output and nothing is flagged for review', async () => {
    for (const sample of [0, 100]) {
      const body = await (await classifySettled(admin, { sample, pin: 'i-plain' })).json<any>();
      expect(body.review).toBe(false);
    }
  });

  it('applies the temperature and flags answers under the review threshold', async () => {
    for (const sample of [0, 100, 191]) {
      const plain = await (await classifySettled(admin, { sample, pin: 'i-plain' })).json<any>();
      const calibrated = await (await classifySettled(admin, { sample, pin: 'i-temp' })).json<any>();
      const expected = applyTemperature(inOrder(plain), 2);
      inOrder(calibrated).forEach((p, i) => expect(p).toBeCloseTo(expected[i], 6));
      expect(calibrated.review).toBe(calibrated.top.probability < 0.9);
    }
  });

  it('dihedral averaging gives a mirrored cell the same answer; the plain model does not', async () => {
    const images = inject('images');
    const [a, b] = [await classifyPng(images.png, 'i-tta'), await classifyPng(images.flopped, 'i-tta')];
    const worst = Math.max(...inOrder(a).map((p, i) => Math.abs(p - inOrder(b)[i])));
    const [c, d] = [await classifyPng(images.png, 'i-plain'), await classifyPng(images.flopped, 'i-plain')];
    const plainWorst = Math.max(...inOrder(c).map((p, i) => Math.abs(p - inOrder(d)[i])));
    console.log(`inference: mirrored cell, largest probability change ${worst.toExponential(1)} with dihedral8, ${plainWorst.toExponential(1)} without`);
    expect(worst).toBeLessThan(1e-5);
    expect(plainWorst).toBeGreaterThan(1e-4);
  });

  it('batch results carry the review flag too', async () => {
    const form = new FormData();
    form.append('image', new File([fromBase64(inject('samples')[0].base64)], 'a.jpeg', { type: 'image/jpeg' }));
    const res = await settled('/v1/classify/batch', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'x-model-version': 'i-temp' }, body: form });
    const { results } = await res.json<any>();
    expect(results[0].result.review).toBe(results[0].result.top.probability < 0.9);
  });
});
