import { beforeAll, describe, expect, inject, it } from 'vitest';
import { call, fromBase64, newToken, publishFixture, settled } from '../helpers.ts';

let doc: any;
let token: string;
const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));

beforeAll(async () => {
  await publishFixture();
  token = await newToken();
  const res = await call('/openapi.json');
  expect(res.status).toBe(200);
  doc = await res.json();
});

describe('the OpenAPI document', () => {
  it('names the server it was fetched from, a licence, and bearer auth everywhere but /healthz', () => {
    expect(doc.servers).toEqual([{ url: 'http://worker.test', description: 'this Worker' }]);
    expect(doc.info.license).toEqual({ name: 'Proprietary: all rights reserved', identifier: 'LicenseRef-Proprietary' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    for (const { path, op } of operations()) if (path !== '/healthz') expect(op.security, path).toEqual([{ bearer: [] }]);
  });

  it('gives every operation its own operationId', () => {
    const ids = operations().map(({ op }) => op.operationId);
    expect(ids).toHaveLength(16);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares on every /v1 operation the 401 with its challenge, the 429 with Retry-After, and the 500', () => {
    for (const { path, method, op } of operations().filter((o) => o.path.startsWith('/v1/'))) {
      const where = `${method} ${path}`;
      expect(op.responses[401].headers['WWW-Authenticate'], where).toEqual({ $ref: '#/components/headers/WWW-Authenticate' });
      expect(op.responses[429].headers['Retry-After'], where).toEqual({ $ref: '#/components/headers/Retry-After' });
      expect(op.responses[429].description, where).toContain('`rate_limited`');
      expect(op.responses[500].description, where).toContain('`internal_error`');
    }
    expect(doc.paths['/healthz'].get.responses[429]).toBeUndefined();
  });

  it('declares X-Request-Id on every response, Server-Timing on classify responses, and classify\'s 413 for pixels', () => {
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        expect(response.headers['X-Request-Id'], `${method} ${path} ${status}`).toEqual({ $ref: '#/components/headers/X-Request-Id' });
        expect(Boolean(response.headers['Server-Timing']), `${method} ${path} ${status}`).toBe(path.startsWith('/v1/classify'));
      }
    }
    expect(Object.keys(doc.components.headers).sort()).toEqual(['Retry-After', 'Server-Timing', 'WWW-Authenticate', 'X-Request-Id']);
    for (const path of ['/v1/classify', '/v1/classify/batch']) expect(doc.paths[path].post.responses[413].description).toContain('`image_too_large`');
  });
});

describe('what the document declares, the service sends', () => {
  it('a 401 carries the RFC 6750 challenge: no error without a token, invalid_token with a bad one', async () => {
    const none = await call('/v1/models');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="cellsense"');
    const bad = await call('/v1/models', { headers: { authorization: 'Bearer cs_not_a_token' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe('Bearer realm="cellsense", error="invalid_token"');
    const ok = await call('/v1/models', { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('www-authenticate')).toBeNull();
  });

  it('an image too large in pixels is a 413 image_too_large, with the request id and Server-Timing', async () => {
    const res = await call('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/png' }, body: fromBase64(inject('images').wide) });
    expect(res.status).toBe(413);
    expect((await res.json<any>()).error.code).toBe('image_too_large');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('server-timing')).toMatch(/total;dur=[\d.]+;desc="in the Worker"/);
  });

  it('over the rate limit, a 429 rate_limited with Retry-After in seconds', async () => {
    const vars = { RATE_LIMIT_DEVICE_REQUESTS: '1' } as Partial<Env>;
    const limited = await newToken();
    expect((await settled('/v1/models', { headers: { authorization: `Bearer ${limited}` } }, vars)).status).toBe(200);
    const res = await settled('/v1/models', { headers: { authorization: `Bearer ${limited}` } }, vars);
    expect(res.status).toBe(429);
    expect((await res.json<any>()).error.code).toBe('rate_limited');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});
