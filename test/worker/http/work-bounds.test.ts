import { beforeAll, describe, expect, inject, it } from 'vitest';
import { delimiterCounter, MAX_BATCH_PIXELS, multipartBoundary } from '../../../worker/http/batch-body.ts';
import { MAX_IMAGE_PIXELS } from '../../../worker/inference/decode.ts';
import { fromBase64, newToken, publishFixture, sampleBytes, settled } from '../helpers.ts';

let token: string;
const pixelLimit = () => inject('images').pixelLimit;
const png = (bytes: Uint8Array, name: string) => new File([bytes as Uint8Array<ArrayBuffer>], name, { type: 'image/png' });

beforeAll(async () => {
  await publishFixture();
  token = await newToken();
});

const send = (path: string, body: BodyInit, type?: string, vars: Partial<Env> = {}) =>
  settled(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}) }, body }, vars);
const batchOf = (files: File[]) => {
  const form = new FormData();
  for (const file of files) form.append('image', file);
  return form;
};

describe('the pixels one image may declare', () => {
  it('1024x1024 (1 MP) is classified; one row more is 413 image_too_large, refused from its header', async () => {
    expect(MAX_IMAGE_PIXELS).toBe(1024 * 1024);
    expect((await send('/v1/classify', fromBase64(pixelLimit().at), 'image/png')).status).toBe(200);
    const over = await send('/v1/classify', fromBase64(pixelLimit().over), 'image/png');
    expect(over.status).toBe(413);
    expect(await over.json()).toEqual({ error: { code: 'image_too_large', message: 'image is 1024x1025 pixels; at most 4096 on a side and 1048576 pixels (1 MP) in all are accepted' } });
  });

  it('in a batch, an image over the limit is its own part error and costs nothing of the batch budget', async () => {
    const res = await send('/v1/classify/batch', batchOf([png(fromBase64(pixelLimit().over), 'over.png'), new File([sampleBytes(0) as Uint8Array<ArrayBuffer>], 'cell.jpeg', { type: 'image/jpeg' })]));
    expect(res.status).toBe(200);
    const { results } = await res.json<any>();
    expect(results[0]).toEqual({ index: 0, filename: 'over.png', error: { status: 413, code: 'image_too_large', message: expect.stringContaining('1024x1025') } });
    expect(results[1].result.top.label).toEqual(expect.any(String));
  });
});

describe("the pixels a batch's images may declare together", () => {
  it('eight images at the per-image limit (8 MP) are classified; a ninth makes the batch 413 batch_too_large before any is decoded', async () => {
    expect(MAX_BATCH_PIXELS).toBe(8 * MAX_IMAGE_PIXELS);
    const at = fromBase64(pixelLimit().at);
    const names = (n: number) => Array.from({ length: n }, (_, i) => `${i}.png`);
    const eight = await send('/v1/classify/batch', batchOf(names(8).map((name) => png(at, name))));
    expect(eight.status).toBe(200);
    expect((await eight.json<any>()).results.map((r: any) => r.error ?? 'ok')).toEqual(Array(8).fill('ok'));
    const nine = await send('/v1/classify/batch', batchOf(names(9).map((name) => png(at, name))));
    expect(nine.status).toBe(413);
    expect(await nine.json()).toEqual({ error: { code: 'batch_too_large', message: expect.stringContaining(`have ${9 * MAX_IMAGE_PIXELS} pixels together; at most ${MAX_BATCH_PIXELS} (8 MP) per batch`) } });
  });
});

describe('the parts of a batch are counted before the body is parsed', () => {
  // 200,000 parts with the long boundary would pass the 32 MiB body limit.
  it.each([['b', 200_000], ['y'.repeat(100), 100_000]])('tiny parts (boundary %s, %i of them): 400 too_many_images', async (boundary, count) => {
    const part = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\nContent-Type: image/png\r\n\r\nx\r\n`;
    const res = await send('/v1/classify/batch', `${part.repeat(count)}--${boundary}--\r\n`, `multipart/form-data; boundary=${boundary}`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'too_many_images', message: 'the batch has more than 32 parts; at most 32 are accepted' } });
  });

  it.each([
    ['multipart/form-data; boundary=abc', 'abc'],
    ['multipart/form-data; boundary="a b:c"', 'a b:c'],
    ['multipart/form-data; charset=utf-8; BOUNDARY=x-1', 'x-1'],
    ['multipart/form-data; boundary = "q\\"t"', 'q"t'],
    ['multipart/form-data', null],
    [`multipart/form-data; boundary=${'x'.repeat(100)}`, 'x'.repeat(100)],
  ])('the boundary of %s is %s', (type, boundary) => {
    expect(multipartBoundary(type)).toBe(boundary);
  });

  it('counts delimiters exactly where they overlap near-misses, across any slicing, and stops at the bound', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    const count = (text: string, boundary: string, stop: number, cut?: number) => {
      const scan = delimiterCounter(boundary, stop);
      const all = bytes(text);
      return cut === undefined ? scan(all) : (scan(all.subarray(0, cut)), scan(all.subarray(cut)));
    };
    expect(count('---aa--a--aa---aa', 'aa', 10)).toBe(3);
    for (let cut = 0; cut <= 17; cut++) expect(count('---aa--a--aa---aa', 'aa', 10, cut)).toBe(3);
    expect(count('--ab--ab--ab--', 'ab', 10)).toBe(3);
    expect(count('--ab--ab--ab--', 'ab', 2)).toBe(2);
    expect(count('-'.repeat(1000), '-'.repeat(70), 1000)).toBe(1000 - 72 + 1);
    expect(count('no delimiter here', 'b', 10)).toBe(0);
  });
});

describe('rate limits count a batch by its images', () => {
  const limited = { RATE_LIMIT_DEVICE_REQUESTS: '10', RATE_LIMIT_WINDOW_SECONDS: '3600' };
  const cells = (n: number) => batchOf(Array.from({ length: n }, (_, i) => new File([sampleBytes(i) as Uint8Array<ArrayBuffer>], `${i}.jpeg`, { type: 'image/jpeg' })));

  it('a batch of 8 leaves 2 of 10; a batch of 3 is 429 with Retry-After and counts as one request; then one image fits', async () => {
    const own = await newToken();
    const post = (body: FormData | Uint8Array) =>
      settled(body instanceof FormData ? '/v1/classify/batch' : '/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${own}`, ...(body instanceof FormData ? {} : { 'content-type': 'image/jpeg' }) }, body: body as BodyInit }, limited);
    expect((await post(cells(8))).status).toBe(200);
    const refused = await post(cells(3));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await refused.json<any>()).error.code).toBe('rate_limited');
    expect((await post(sampleBytes(0))).status).toBe(200);
    expect((await post(sampleBytes(0))).status).toBe(429);
  });

  it('a batch larger than the whole limit says it never fits', async () => {
    const own = await newToken();
    const res = await settled('/v1/classify/batch', { method: 'POST', headers: { authorization: `Bearer ${own}` }, body: cells(12) }, limited);
    expect(res.status).toBe(429);
    expect((await res.json<any>()).error.message).toContain('a batch of 12 images never fits, send smaller ones');
  });
});
