import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { fromBase64, jsonInit, newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

// Two lab devices on one version: one sends photos like the training photos, the other frames
// unlike them (blank, single-colour, grayscale), as a device whose camera or stain changed would.
const VERSION = 'd-v1';
const UNLIKE = ['white', 'black', 'grey', 'purple', 'grayscale'] as const;
const answers: Record<'lab-steady' | 'lab-drifting', any[]> = { 'lab-steady': [], 'lab-drifting': [] };
let admin: string;
let since: string;

const drift = async (query: string, vars: Partial<Env> = {}) => {
  const res = await settled(`/v1/stats?since=${since}${query}`, jsonInit(admin, 'GET'), vars);
  expect(res.status).toBe(200);
  return (await res.json<any>()).drift;
};

async function provision(name: string): Promise<string> {
  const res = await settled('/v1/devices', jsonInit(admin, 'POST', { name }));
  expect(res.status).toBe(201);
  return (await res.json<{ token: string }>()).token;
}

async function send(token: string, body: Uint8Array, type: string) {
  const res = await settled('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body });
  expect(res.status).toBe(200);
  return res.json<any>();
}

/** The figures a set of classify responses should add up to, computed from the responses alone. */
function figuresOf(bodies: any[]) {
  const share = (reason: string) => bodies.filter((b) => b.reasons.includes(reason)).length / bodies.length;
  const classes: Record<string, number> = {};
  for (const b of bodies) classes[b.top.label] = (classes[b.top.label] ?? 0) + 1;
  const mean = bodies.reduce((n, b) => n + b.domainScore, 0) / bodies.length;
  return { answers: bodies.length, reasons: { low_confidence: share('low_confidence'), out_of_domain: share('out_of_domain') }, meanDomainScore: Math.round(mean * 1000) / 1000, classes };
}

/** The responses grouped by the bucket their stored time falls in, oldest first. */
async function seriesOf(bodies: any[], bucketSeconds: number) {
  const buckets = new Map<number, any[]>();
  for (const body of bodies) {
    const row = await env.DB.prepare('SELECT created_at FROM predictions WHERE id = ?').bind(body.id).first<{ created_at: string }>();
    const start = Math.floor(Date.parse(row!.created_at) / 1000 / bucketSeconds) * bucketSeconds;
    buckets.set(start, [...(buckets.get(start) ?? []), body]);
  }
  return [...buckets].sort(([a], [b]) => a - b).map(([start, group]) => ({ start: new Date(start * 1000).toISOString(), ...figuresOf(group) }));
}

beforeAll(async () => {
  await publishFixture(VERSION);
  admin = await newToken(true);
  const [steady, drifting] = [await provision('lab-steady'), await provision('lab-drifting')];
  since = new Date().toISOString();
  // Five answers a device (odd, so no mean lands halfway between two thousandths), one photo per class and then some.
  const samples = inject('samples');
  const inDomain = samples.map((s, i) => ({ s, i })).filter(({ s }) => s.domainScore !== null && s.domainScore <= 1);
  const picked = [0, 1, 2, 3, 4].map((k) => inDomain[Math.floor((k * inDomain.length) / 5)].i);
  for (const i of picked) answers['lab-steady'].push(await send(steady, sampleBytes(i), 'image/jpeg'));
  for (const kind of UNLIKE) answers['lab-drifting'].push(await send(drifting, fromBase64(inject('images').unlike[kind]), 'image/png'));
});

describe('drift per device in GET /v1/stats', () => {
  it('the devices answered as expected: every unlike frame out of domain, every sample photo within it', () => {
    expect(answers['lab-drifting'].every((b) => b.reasons.includes('out_of_domain') && b.domainScore > 1)).toBe(true);
    expect(answers['lab-steady'].every((b) => !b.reasons.includes('out_of_domain') && b.domainScore <= 1)).toBe(true);
  });

  it('gives per device and version the flagged shares, the mean domainScore and the class mix, and alerts on the drifting one only', async () => {
    const bucket = 30 * 86_400;
    const body = await drift(`&driftMinAnswers=5&driftBucket=${bucket}`);
    const entry = async (device: keyof typeof answers) => ({
      device,
      version: VERSION,
      alert: device === 'lab-drifting',
      window: figuresOf(answers[device]),
      series: await seriesOf(answers[device], bucket),
    });
    expect(body).toEqual({
      bucketSeconds: bucket,
      alert: { level: 0.2, windowSeconds: 21_600, minAnswers: 5, windowStart: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) },
      alerting: ['lab-drifting'],
      devices: [await entry('lab-drifting'), await entry('lab-steady')],
    });
    // Beyond agreeing with the responses: the figures that make the one an alert and not the other.
    const [drifting, steady] = body.devices;
    expect([drifting.window.reasons.out_of_domain, steady.window.reasons.out_of_domain]).toEqual([1, 0]);
    expect(drifting.window.meanDomainScore).toBeGreaterThan(1);
    expect(steady.window.meanDomainScore).toBeLessThanOrEqual(1);
    expect(Date.parse(body.alert.windowStart)).toBeLessThanOrEqual(Date.now() - 21_600_000);
  });

  it('raises no alert below the fewest answers it needs (DRIFT_ALERT_MIN_ANSWERS, 10 by default)', async () => {
    const body = await drift('');
    expect(body.alert).toMatchObject({ level: 0.2, windowSeconds: 21_600, minAnswers: 10 });
    expect(body.alerting).toEqual([]);
    expect(body.devices.map((d: any) => [d.device, d.alert, d.window.answers])).toEqual([['lab-drifting', false, 5], ['lab-steady', false, 5]]);
  });

  it('takes the level and the fewest answers from wrangler.toml vars, and the query over them', async () => {
    const vars = { DRIFT_ALERT_LEVEL: '1', DRIFT_ALERT_MIN_ANSWERS: '5', DRIFT_ALERT_WINDOW_SECONDS: '600' } as Partial<Env>;
    const fromVars = await drift('', vars);
    expect(fromVars.alert).toMatchObject({ level: 1, windowSeconds: 600, minAnswers: 5 });
    expect(fromVars.alerting).toEqual([]);
    expect((await drift('&driftLevel=0.99', vars)).alerting).toEqual(['lab-drifting']);
  });

  it('keeps the default for a malformed var, and shows the value in force', async () => {
    const body = await drift('&driftMinAnswers=5', { DRIFT_ALERT_LEVEL: 'high', DRIFT_ALERT_WINDOW_SECONDS: '-1' } as Partial<Env>);
    expect(body.alert).toMatchObject({ level: 0.2, windowSeconds: 21_600, minAnswers: 5 });
    expect(body.alerting).toEqual(['lab-drifting']);
  });

  it('chooses buckets from the range when none is asked for: a minute for the last few seconds', async () => {
    const body = await drift('');
    expect(body.bucketSeconds).toBe(60);
    for (const d of body.devices) expect(d.series).toEqual(await seriesOf(answers[d.device as keyof typeof answers], 60));
  });
});
