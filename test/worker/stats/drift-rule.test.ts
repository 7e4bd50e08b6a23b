import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClassifiedImage } from '../../../worker/inference/classify-images.ts';
import { recordPredictions, type PredictionRecord } from '../../../worker/stats/record.ts';
import { jsonInit, newToken, settled } from '../helpers.ts';

// The drift figures over hours of history, written with the Worker's own write path at chosen
// times: buckets, the alert window, the level as a bound, and rows kept from before the drift
// columns existed.
const CLASSES = ['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL'];
const HOUR = 3_600_000;
const DEVICE = 'lab-history';
// The start of the current hour, so every bucket below is known whatever the time of the run.
const H = Math.floor(Date.now() / HOUR) * HOUR;
const since = new Date(H - 8 * HOUR).toISOString();
let admin: string;
let n = 0;

function answer(at: number, label: string, reasons: string[], domainScore: number | null, version = 'h-v1'): PredictionRecord {
  const probabilities = CLASSES.map((c) => (c === label ? 0.7 : 0.1));
  const result = { top: { label, probability: 0.7 }, review: reasons.length > 0, reasons, domainScore };
  return {
    id: `h-${++n}`, requestId: `r-${n}`, version, assigned: version, route: 'default', device: DEVICE, status: 200, errorCode: null,
    classified: { classes: CLASSES, probabilities, result } as unknown as ClassifiedImage, latencyMs: 5, createdAt: new Date(at).toISOString(),
  };
}

const stats = async (query: string) => {
  const res = await settled(`/v1/stats${query}`, jsonInit(admin, 'GET'));
  return { status: res.status, body: await res.json<any>() };
};
const drift = async (query = '') => {
  const { status, body } = await stats(`?since=${since}${query}`);
  expect(status).toBe(200);
  return body.drift;
};
const entry = (body: any, version: string) => body.devices.find((d: any) => d.version === version);

beforeAll(async () => {
  admin = await newToken(true);
  await recordPredictions(env.DB, [
    // Before the default alert window (6 h), inside the range.
    answer(H - 7 * HOUR + 10 * 60_000, 'EOSINOPHIL', ['out_of_domain'], 2.5),
    answer(H - 2 * HOUR + 5 * 60_000, 'NEUTROPHIL', [], 0.5),
    answer(H - 2 * HOUR + 20 * 60_000, 'NEUTROPHIL', ['low_confidence'], 0.7),
    answer(H - 2 * HOUR + 50 * 60_000, 'MONOCYTE', ['low_confidence', 'out_of_domain'], 1.6),
    answer(H - HOUR + 60_000, 'LYMPHOCYTE', ['out_of_domain'], 3.2),
    answer(H - HOUR + 2 * 60_000, 'NEUTROPHIL', [], 0.25),
    // A version trained without a domain profile: no score, never out of domain.
    answer(H - HOUR + 3 * 60_000, 'NEUTROPHIL', [], null, 'h-v0'),
    // A refused image is not an answer.
    { ...answer(H - HOUR + 4 * 60_000, 'NEUTROPHIL', [], null), status: 400, errorCode: 'invalid_image', classified: null },
  ]);
  // Answers recorded before migration 0006 have neither reasons nor a score.
  await env.DB.prepare(
    `INSERT INTO predictions (id, request_id, version, assigned, route, device, status, top_label, top_probability, probabilities, review, latency_ms, created_at)
     VALUES (?1, 'r-old', 'h-v1', 'h-v1', 'default', ?2, 200, 'MONOCYTE', 0.4, '{}', 1, 9, ?3), ('h-old-2', 'r-old', 'h-v1', 'h-v1', 'default', ?2, 200, 'MONOCYTE', 0.4, '{}', 1, 9, ?4)`,
  ).bind('h-old-1', DEVICE, new Date(H - HOUR + 5 * 60_000).toISOString(), new Date(H - 20 * HOUR).toISOString()).run();
});

describe('drift over hours of history', () => {
  it('buckets the answers: flagged shares, mean domainScore and class mix per bucket and over the window', async () => {
    const body = await drift('&driftBucket=3600');
    const at = (ms: number) => new Date(ms).toISOString();
    expect(body.bucketSeconds).toBe(3600);
    expect(body.alerting).toEqual([]);
    expect(body.devices).toEqual([
      {
        device: DEVICE, version: 'h-v0', alert: false,
        window: { answers: 1, reasons: { low_confidence: 0, out_of_domain: 0 }, meanDomainScore: null, classes: { NEUTROPHIL: 1 } },
        series: [{ start: at(H - HOUR), answers: 1, reasons: { low_confidence: 0, out_of_domain: 0 }, meanDomainScore: null, classes: { NEUTROPHIL: 1 } }],
      },
      {
        device: DEVICE, version: 'h-v1',
        // 2 of 5 out of domain is over the level, but 5 answers are fewer than the 10 an alert needs.
        alert: false,
        window: { answers: 5, reasons: { low_confidence: 0.4, out_of_domain: 0.4 }, meanDomainScore: 1.25, classes: { LYMPHOCYTE: 1, MONOCYTE: 1, NEUTROPHIL: 3 } },
        series: [
          { start: at(H - 7 * HOUR), answers: 1, reasons: { low_confidence: 0, out_of_domain: 1 }, meanDomainScore: 2.5, classes: { EOSINOPHIL: 1 } },
          { start: at(H - 2 * HOUR), answers: 3, reasons: { low_confidence: 2 / 3, out_of_domain: 1 / 3 }, meanDomainScore: 0.933, classes: { MONOCYTE: 1, NEUTROPHIL: 2 } },
          { start: at(H - HOUR), answers: 2, reasons: { low_confidence: 0, out_of_domain: 0.5 }, meanDomainScore: 1.725, classes: { LYMPHOCYTE: 1, NEUTROPHIL: 1 } },
        ],
      },
    ]);
  });

  it('chooses 15-minute buckets for an 8-hour range when none is asked for', async () => {
    const body = await drift();
    expect(body.bucketSeconds).toBe(900);
    expect(entry(body, 'h-v1').series.map((b: any) => [b.start, b.answers])).toEqual([
      [new Date(H - 7 * HOUR).toISOString(), 1],
      [new Date(H - 2 * HOUR).toISOString(), 1],
      [new Date(H - 2 * HOUR + 15 * 60_000).toISOString(), 1],
      [new Date(H - 2 * HOUR + 45 * 60_000).toISOString(), 1],
      [new Date(H - HOUR).toISOString(), 2],
    ]);
  });

  it('alerts only when the out-of-domain share is more than the level, not equal to it', async () => {
    const alertAt = async (level: string) => entry(await drift(`&driftMinAnswers=5&driftLevel=${level}`), 'h-v1').alert;
    expect(await alertAt('0.4')).toBe(false);
    expect(await alertAt('0.39')).toBe(true);
    const body = await drift('&driftMinAnswers=5');
    expect(body.alerting).toEqual([DEVICE]);
    expect(body.devices.map((d: any) => d.alert)).toEqual([false, true]);
  });

  it('counts the window back from now whatever since says, and a wider window takes in older answers', async () => {
    const later = (await stats(`?since=${new Date(H).toISOString()}&driftMinAnswers=5`)).body.drift;
    expect(entry(later, 'h-v1')).toMatchObject({ alert: true, series: [], window: { answers: 5 } });
    const wide = await drift(`&driftMinAnswers=6&driftWindow=${30 * 86_400}`);
    expect(entry(wide, 'h-v1')).toMatchObject({ alert: true, window: { answers: 6, reasons: { out_of_domain: 0.5 } } });
    expect(entry(await drift('&driftMinAnswers=6'), 'h-v1').alert).toBe(false);
  });

  it('never alerts on a version without a domain profile, even at level 0', async () => {
    const body = await drift('&driftMinAnswers=1&driftLevel=0');
    expect(body.devices.map((d: any) => [d.version, d.alert])).toEqual([['h-v0', false], ['h-v1', true]]);
  });

  it('leaves rows from before the migration out of the drift, and counts them in the version statistics as before', async () => {
    const { body } = await stats('?driftBucket=3600');
    const v1 = body.versions.find((v: any) => v.version === 'h-v1');
    expect(v1).toMatchObject({ requests: 9, errors: 1, review: 6, predictedClasses: { EOSINOPHIL: 1, LYMPHOCYTE: 1, MONOCYTE: 3, NEUTROPHIL: 3 } });
    expect(entry(body.drift, 'h-v1').series.reduce((total: number, b: any) => total + b.answers, 0)).toBe(6);
  });
});

describe('drift parameters', () => {
  it.each([
    ['an empty level', '&driftLevel='],
    ['a level that is not a number', '&driftLevel=high'],
    ['a level over 1', '&driftLevel=1.5'],
    ['a window under a minute', '&driftWindow=59'],
    ['a window that is not whole seconds', '&driftWindow=90.5'],
    ['no answers needed at all', '&driftMinAnswers=0'],
    ['a bucket under a minute', '&driftBucket=30'],
  ])('refuses %s with 400 invalid_request', async (_, query) => {
    const { status, body } = await stats(`?since=${since}${query}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toMatch(/^drift\w+: /);
  });

  it('refuses with 400 invalid_bucket a series of over 1,000 buckets, counting all time from the oldest answer', async () => {
    const { status, body } = await stats('?driftBucket=60');
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_bucket');
    expect(body.error.message).toMatch(/^driftBucket 60 s makes 12\d\d buckets over the \d+ s asked for; at most 1000: use at least \d+ s, or a later since$/);
    expect((await stats(`?since=${since}&driftBucket=60`)).status).toBe(200);
  });
});
