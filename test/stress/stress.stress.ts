import './context.ts';
import { env } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDevice, revokeDevice as revokeInD1 } from '../../worker/devices/store.ts';
import { revokeDevice, tokenRequest } from '../../scripts/lib/token-core.ts';
import { issueToken } from '../../worker/devices/tokens.ts';
import { call, fromBase64, newToken, publishFixture, sampleBytes, settled, timedSettled } from '../worker/helpers.ts';
import { authRoutes, BAD_PINS, badCredentials, type AuthInputs } from './attacks/auth.ts';
import { StatusLog } from './attacks/declared-statuses.ts';
import { runFaults } from './attacks/faults.ts';
import { fuzzCases } from './attacks/fuzz-cases.ts';
import { answersFor, LEAK, runFuzz } from './attacks/fuzz.ts';
import { REQUEST_BOUND_MS, runHeavy, STALL_BOUND_MS } from './attacks/heavy.ts';
import { runLoad } from './attacks/load.ts';
import { runRateLimits } from './attacks/rate-limits.ts';
import { Random } from './random.ts';

const { seed, loadSeconds } = inject('stress');
const images = inject('images');
const tiny = fromBase64(images.tiny);
const summary: Record<string, string> = {};
let classes: string[];
let admin: string;
let devices: string[];
const auth = (token: string) => ({ authorization: `Bearer ${token}` });
// Every answer's status is noted: at the end, each must be declared in the OpenAPI document.
const statuses = new StatusLog();
const send = (path: string, init: RequestInit, vars?: Partial<Env>) => statuses.record(init.method, path, settled(path, init, vars));
// `send`, with how long the answer took apart from the work left to `waitUntil`.
const sendTimed = async (path: string, init: RequestInit) => {
  const timed = await timedSettled(path, init);
  await statuses.record(init.method, path, Promise.resolve(timed.res));
  return timed;
};

interface Snapshot {
  predictions: Map<string, string>;
  feedback: Map<string, string>;
}
async function snapshot(): Promise<Snapshot> {
  const p = await env.DB.prepare('SELECT id, version, status, top_label, created_at FROM predictions').all<Record<string, unknown>>();
  const f = await env.DB.prepare('SELECT prediction_id, label, device, created_at FROM feedback').all<Record<string, unknown>>();
  return {
    predictions: new Map(p.results.map((row) => [row.id as string, JSON.stringify(row)])),
    feedback: new Map(f.results.map((row) => [row.prediction_id as string, JSON.stringify(row)])),
  };
}
let before: Snapshot;
const committed = { ids: [] as string[], feedback: new Map<string, string>() };

beforeAll(async () => {
  classes = (await publishFixture('s-a')).classes;
  await publishFixture('s-b');
  await publishFixture('s-c');
  admin = await newToken(true);
  devices = await Promise.all(Array.from({ length: 8 }, () => newToken()));
  // Stored before the suite: predictions and feedback that must all still be there after it.
  for (let i = 0; i < 16; i++) {
    const res = await send('/v1/classify', { method: 'POST', headers: { ...auth(devices[i % 8]), 'content-type': 'image/jpeg' }, body: sampleBytes(i) as Uint8Array<ArrayBuffer> });
    const { id } = await res.json<{ id: string }>();
    if (i % 2 === 0) expect((await send('/v1/feedback', { method: 'POST', headers: { ...auth(devices[i % 8]), 'content-type': 'application/json' }, body: JSON.stringify({ id, label: classes[i % classes.length] }) })).status).toBe(201);
  }
  before = await snapshot();
});

describe('fuzz', () => {
  it('answers every malformed request with a 4xx JSON error (no 5xx, no hang) and classifies correctly afterwards', async () => {
    const samples = inject('samples');
    const jpegs = samples.filter((_, i) => i % 8 === 0).map((s) => fromBase64(s.base64));
    const cases = fuzzCases(new Random(seed), { device: devices[0], admin, jpegs, png: fromBase64(images.png), webps: [fromBase64(images.webp), fromBase64(images.webpLossy)], tiny }, 2400);
    const imageType = (b: Uint8Array) => (b[0] === 0xff ? 'image/jpeg' : b[0] === 0x89 ? 'image/png' : 'image/webp');
    const answers = await answersFor(cases, (bytes) => send('/v1/classify', { method: 'POST', headers: { ...auth(devices[0]), 'content-type': imageType(bytes) }, body: bytes as Uint8Array<ArrayBuffer> }));
    const tally = await runFuzz(cases, send, answers);
    const statuses = Object.fromEntries(Object.entries(tally.statuses).sort());
    summary.fuzz = `fuzz: ${tally.requests} malformed requests, statuses ${JSON.stringify(statuses)}, ${tally.serverErrors} 5xx, ${tally.hangs} hangs or stalls, ${tally.decodedAnyway} of them 200 (batches answered part by part, each part a 4xx, or damaged images that still decode), ${tally.damaged} damaged images classified: ${tally.flagged} flagged for review, the others answered as the undamaged image, seed ${seed}`;
    console.log(summary.fuzz);
    expect(tally.failures.slice(0, 20)).toEqual([]);
    expect(tally.requests).toBeGreaterThanOrEqual(2000);
    // Afterwards the Worker still answers each sample as the Node path does.
    for (const index of [0, 1, 2, 3]) {
      const res = await send('/v1/classify', { method: 'POST', headers: { ...auth(devices[1]), 'content-type': 'image/jpeg' }, body: sampleBytes(index) as Uint8Array<ArrayBuffer> });
      expect(res.status).toBe(200);
      const body = await res.json<any>();
      const expected = samples[index].expected;
      expect(body.top.label).toBe(classes[expected.indexOf(Math.max(...expected))]);
      committed.ids.push(body.id);
    }
  });
});

describe('auth', () => {
  it('refuses every request without a valid token, and device tokens on admin routes: 0 accepted', async () => {
    const r = new Random(seed + 1);
    const revoked = await newToken();
    const revokedName = (await env.DB.prepare('SELECT name FROM devices ORDER BY rowid DESC LIMIT 1').first<{ name: string }>())!.name;
    expect((await send(`/v1/devices/${revokedName}`, { method: 'DELETE', headers: auth(admin) })).status).toBe(204);
    // Rotation: an admin revokes a device's token and issues it a new one; the old one is dead.
    const rotated = (await (await send('/v1/devices', { method: 'POST', headers: { ...auth(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'rotating' }) })).json<any>()).token;
    await send('/v1/devices/rotating', { method: 'DELETE', headers: auth(admin) });
    const fresh = (await (await send('/v1/devices', { method: 'POST', headers: { ...auth(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'rotating' }) })).json<any>()).token;
    expect((await send('/v1/models', { headers: auth(fresh) })).status).toBe(200);
    // Revoked with the CLI while the Worker runs, after the isolate verified it (and cached it).
    const cliRevoked = (await createDevice(env.DB, 'cli-revoked', false)).token;
    expect((await send('/v1/models', { headers: auth(cliRevoked) })).status).toBe(200);
    const store = { create: async (name: string, admin: boolean, pins: string[]) => (await createDevice(env.DB, name, admin, pins)).token, revoke: (name: string) => revokeInD1(env.DB, name) };
    expect(await revokeDevice(store, 'cli-revoked', send)).toBe('worker');
    const inputs: AuthInputs = { device: devices[2], revoked, rotated, cliRevoked, foreign: (await issueToken()).token, tiny };
    const state = async () => JSON.stringify([(await env.DB.prepare('SELECT token_id, revoked_at, pins FROM devices ORDER BY token_id').all()).results, (await env.DB.prepare('SELECT id FROM routing').all()).results]);
    const stateBefore = await state();
    let attempts = 0;
    const accepted: string[] = [];
    const wrong: string[] = [];
    for (const route of authRoutes(inputs)) {
      const tries = [...badCredentials(r, inputs).map((h) => ({ header: h, status: 401 })), ...(route.admin ? [{ header: `Bearer ${inputs.device}`, status: 403 }, { header: `Bearer ${fresh}`, status: 403 }] : [])];
      for (const { header, status } of tries) {
        const headers = new Headers(route.init.headers);
        if (header !== null) headers.set('authorization', header);
        const res = await send(route.path, { ...route.init, method: route.method, headers });
        attempts++;
        const text = await res.text();
        if (res.status < 300) accepted.push(`${route.method} ${route.path} with ${String(header).slice(0, 40)}: ${res.status}`);
        else if (res.status !== status || !JSON.parse(text).error?.code || LEAK.test(text)) wrong.push(`${route.method} ${route.path} with ${String(header).slice(0, 40)}: ${res.status} ${text.slice(0, 120)}`);
      }
    }
    // A second device under a name that differs only in case: always 409, nothing stored.
    const active = (await env.DB.prepare('SELECT name FROM devices WHERE revoked_at IS NULL ORDER BY name').all<{ name: string }>()).results.map((row) => row.name);
    for (const name of active) {
      for (const variant of new Set([name.toUpperCase(), name[0].toUpperCase() + name.slice(1)].filter((v) => v !== name))) {
        const res = await send('/v1/devices', { method: 'POST', headers: { ...auth(admin), 'content-type': 'application/json' }, body: JSON.stringify({ name: variant }) });
        attempts++;
        const body = await res.json<any>();
        if (res.status < 300) accepted.push(`POST /v1/devices "${variant}" beside "${name}": ${res.status}`);
        else if (res.status !== 409 || body.error?.code !== 'device_exists') wrong.push(`POST /v1/devices "${variant}" beside "${name}": ${res.status} ${JSON.stringify(body).slice(0, 120)}`);
      }
    }
    // `npm run token` with pins that are no version name, local or remote: refused before anything is written.
    for (const where of [{ local: true }, { remote: true }]) {
      for (const pin of BAD_PINS) {
        attempts++;
        try {
          tokenRequest({ device: 'pinned', pin, ...where });
          accepted.push(`npm run token -- --device pinned --pin ${pin} ${Object.keys(where)[0]}`);
        } catch (error) {
          if (!String((error as Error).message).includes('is neither a version name nor "*"')) wrong.push(`--pin ${pin}: ${(error as Error).message}`);
        }
      }
    }
    summary.auth = `auth: ${attempts} attempts, ${accepted.length} accepted`;
    console.log(summary.auth);
    expect(accepted).toEqual([]);
    expect(wrong).toEqual([]);
    expect(await state()).toBe(stateBefore);
  });
});

describe('load', () => {
  it(`8 clients for ${loadSeconds} s mixing classify, batch, feedback and stats, routing changed half-way: 0 errors`, async () => {
    const put = (split: Record<string, number>) => send('/v1/routing', { method: 'PUT', headers: { ...auth(admin), 'content-type': 'application/json' }, body: JSON.stringify({ split, sticky: false }) });
    expect((await put({ 's-a': 50, 's-b': 50 })).status).toBe(200);
    const samples = [0, 1, 2, 3].map((i) => sampleBytes(i) as Uint8Array<ArrayBuffer>);
    const result = await runLoad(new Random(seed + 2), { devices, admin, classes, tiny, samples, seconds: loadSeconds, before: ['s-a', 's-b'], after: ['s-b', 's-c'], change: () => put({ 's-b': 50, 's-c': 50 }) }, send);
    committed.ids.push(...result.ids);
    for (const [id, label] of result.feedback) committed.feedback.set(id, label);
    summary.load = `load: ${result.requests} requests from ${devices.length} clients in ${loadSeconds} s, ${result.errors.length} errors, p50 ${result.p50} ms, p99 ${result.p99} ms`;
    console.log(summary.load);
    expect(result.errors.slice(0, 20)).toEqual([]);
  });

  it(`the heaviest legal requests, in each format, hold a /healthz at most ${STALL_BOUND_MS} ms and take at most ${REQUEST_BOUND_MS} ms each`, async () => {
    const heavy = inject('heavy');
    const images = Object.fromEntries(Object.entries(heavy.images).map(([format, { share, max }]) => [format, { share: fromBase64(share), max: fromBase64(max) }]));
    const { results, idle } = await runHeavy(call, sendTimed, { token: devices[4], images: images as Parameters<typeof runHeavy>[2]['images'], declaredHuge: fromBase64(heavy.declaredHuge) });
    const refused = (r: (typeof results)[number]) => (r.refused.length ? `, ${r.refused.length} refused (${[...new Set(r.refused)].join(', ')})` : '');
    console.log(results.map((r) => `  ${r.name}: ${r.status}, ${r.classified} of ${r.images} classified${refused(r)}, ${r.ms} ms, /healthz waited up to ${r.healthz} ms (run ${r.attempts})`).join('\n'));
    const slowest = Math.max(...results.map((r) => r.ms));
    const stalled = Math.max(...results.map((r) => r.healthz));
    summary.load += `; heavy: ${results.length} worst-case requests, slowest ${slowest} ms, /healthz waited at most ${stalled} ms (${idle} ms with nothing running)`;
    console.log(summary.load);
    expect(results.at(-1)!.refused).toEqual(Array(32).fill('image_too_large'));
    expect(results.filter((r) => r.status !== 200 || r.classified !== r.images)).toEqual([]);
    expect(results.filter((r) => r.healthz > STALL_BOUND_MS || r.ms > REQUEST_BOUND_MS)).toEqual([]);
  });

  it('real rate limits under load: past the limit 429 with Retry-After, whatever the headers, tokens or batches', async () => {
    const limit = 20;
    const vars = { RATE_LIMIT_DEVICE_REQUESTS: String(limit), RATE_LIMIT_WINDOW_SECONDS: '3600' };
    const result = await runRateLimits(new Random(seed + 3), { admin, tiny, devices: 4, limit, seconds: 5 }, (path, init) => send(path, init, vars));
    const accepted = [...result.accepted.values()];
    const over = accepted.reduce((n, images) => n + Math.max(0, images - limit), 0);
    summary.load += `; rate limits: ${result.accepted.size} devices at ${limit} images per window, ${result.requests} requests (batches, spoofed forwarding headers, tokens rotated), ${accepted.reduce((a, b) => a + b, 0)} images accepted of ${limit * accepted.length} allowed, ${result.refused} refused with 429 and Retry-After, ${over} over the limit`;
    console.log(summary.load);
    expect(result.errors.slice(0, 10)).toEqual([]);
    expect(accepted).toHaveLength(4);
    expect(accepted.every((images) => images <= limit)).toBe(true);
    expect(result.refused).toBeGreaterThan(0);
  });
});

describe('faults', () => {
  it('stays up on the healthy versions or answers 503 JSON, and loses or doubles no record', async () => {
    const results = await runFaults(admin, devices[3], tiny, send);
    const survived = results.filter((f) => f.survived).length;
    // Every record stored before the suite is unchanged; every 200 and 201 of the suite is stored once.
    const after = await snapshot();
    let lost = 0;
    for (const [id, row] of before.predictions) if (after.predictions.get(id) !== row) lost++;
    for (const [id, row] of before.feedback) if (after.feedback.get(id) !== row) lost++;
    for (const id of committed.ids) if (!after.predictions.has(id)) lost++;
    for (const [id, label] of committed.feedback) if (!after.feedback.get(id)?.includes(`"label":"${label}"`)) lost++;
    const counts = await env.DB.prepare('SELECT (SELECT COUNT(*) FROM predictions) - (SELECT COUNT(DISTINCT id) FROM predictions) AS dup').first<{ dup: number }>();
    summary.faults = `faults: ${results.length} injected, ${survived} survived, ${lost} records lost, ${counts!.dup} doubled (${committed.ids.length} predictions and ${committed.feedback.size} feedback committed during the suite checked)`;
    console.log(results.map((f) => `  ${f.survived ? 'ok  ' : 'FAIL'} ${f.name}: ${f.detail}`).join('\n'));
    console.log(summary.faults);
    expect(results.filter((f) => !f.survived)).toEqual([]);
    expect(lost).toBe(0);
  });
});

afterAll(() => {
  console.log(['fuzz', 'load', 'faults', 'auth'].map((k) => summary[k] ?? `${k}: did not run`).join('\n'));
});

afterAll(async () => {
  const document = await (await settled('/openapi.json')).json<{ paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>();
  const { missing, operations, statuses: checked } = statuses.undeclared(document);
  console.log(`openapi: ${checked} statuses seen on ${operations} operations, ${missing.length} not declared${missing.length ? `: ${missing.join(', ')}` : ''}`);
  expect(missing).toEqual([]);
});
