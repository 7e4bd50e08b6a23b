import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, REPORT_VIEWER_CSP } from '../../../worker/console/route.ts';
import { REPORT_CSP } from '../../../worker/http/routes/model-report.ts';
import { call, fixtureVersion, jsonInit, newToken, publishFixture } from '../helpers.ts';

// The lab console: its static files through the Worker, and the two admin routes it
// added to the API. The browser side is test/console/console.e2e.ts.

let admin: string;
let device: string;
const get = (path: string, token: string | null) => call(path, token ? { headers: { authorization: `Bearer ${token}` } } : {});

beforeAll(async () => {
  await publishFixture('console-a');
  await publishFixture('console-b');
  admin = await newToken(true);
  device = await newToken();
});

describe('/console/', () => {
  it('redirects /console to /console/', async () => {
    const res = await call('/console', { redirect: 'manual' });
    expect(res.status).toBe(308);
    expect(new URL(res.headers.get('location')!, 'http://worker.test').pathname).toBe('/console/');
  });

  it('serves the page without a token, with a strict CSP: scripts from this origin only, none inline', async () => {
    const res = await call('/console/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(CONSOLE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="app.js"></script>');
    // Every <script> has a src; no inline handlers or styles.
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=/i);
  });

  it.each([
    ['/console/app.js', /javascript/, CONSOLE_CSP],
    ['/console/style.css', /^text\/css/, CONSOLE_CSP],
    ['/console/report', /^text\/html/, REPORT_VIEWER_CSP],
  ])('serves %s with its type and policy', async (path, type, policy) => {
    const res = await call(path);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(type);
    expect(res.headers.get('content-security-policy')).toBe(policy);
  });

  it('answers an unknown console file with the JSON 404', async () => {
    const res = await call('/console/nothing-here.js');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'the console has no file /console/nothing-here.js' } });
  });
});

describe('GET /v1/models/{version}/report', () => {
  it("streams the version's report.html to an admin, under a CSP that allows no script", async () => {
    const res = await get('/v1/models/console-a/report', admin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(REPORT_CSP);
    expect(REPORT_CSP).toMatch(/^default-src 'none';.*sandbox$/);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(fixtureVersion().files.get('report.html'));
  });

  it.each([
    ['a device token', 'console-a', 'device', 403, 'forbidden'],
    ['no token', 'console-a', null, 401, 'unauthorized'],
    ['an unknown version', 'nope', 'admin', 404, 'model_not_found'],
  ])('refuses %s', async (_, version, who, status, code) => {
    const res = await get(`/v1/models/${version}/report`, who === 'admin' ? admin : who === 'device' ? device : null);
    expect(res.status).toBe(status);
    expect((await res.json<any>()).error.code).toBe(code);
  });

  it('is a 404 for a version published without a report', async () => {
    await env.MODELS.delete('console-b/report.html');
    const res = await get('/v1/models/console-b/report', admin);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'report_not_found', message: 'model version "console-b" was published without a report.html' } });
  });
});

describe('GET /v1/devices', () => {
  it('lists the active devices to an admin, newest first, without tokens; revoked ones drop out', async () => {
    expect((await call('/v1/devices', jsonInit(admin, 'POST', { name: 'console-lab-1', pins: ['console-b'] }))).status).toBe(201);
    expect((await call('/v1/devices', jsonInit(admin, 'POST', { name: 'console-lab-2' }))).status).toBe(201);
    expect((await call('/v1/devices/console-lab-2', jsonInit(admin, 'DELETE'))).status).toBe(204);
    const res = await get('/v1/devices', admin);
    expect(res.status).toBe(200);
    const { devices } = await res.json<any>();
    expect(devices[0]).toEqual({ name: 'console-lab-1', admin: false, pins: ['console-b'], createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(devices.map((d: any) => d.name)).not.toContain('console-lab-2');
    expect(devices.filter((d: any) => d.admin).length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(devices)).not.toMatch(/cs_|token/);
  });

  it('refuses a device token with 403', async () => {
    const res = await get('/v1/devices', device);
    expect(res.status).toBe(403);
    expect((await res.json<any>()).error.code).toBe('forbidden');
  });
});
