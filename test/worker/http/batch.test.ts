import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Manifest } from '../../../shared/index.ts';
import { call, classify, expectClassification, fromBase64, newToken, publishFixture, sampleBytes } from '../helpers.ts';

let manifest: Manifest;
let token: string;

beforeAll(async () => {
  manifest = await publishFixture();
  token = await newToken();
});

function batch(form: FormData | string, contentType?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (contentType) headers['content-type'] = contentType;
  return call('/v1/classify/batch', { method: 'POST', headers, body: form });
}

const file = (bytes: Uint8Array, name: string, type = 'image/jpeg') => new File([bytes], name, { type });

describe('POST /v1/classify/batch', () => {
  it('answers one result per part, in order, with errors kept to their own part', async () => {
    const form = new FormData();
    form.append('image', file(sampleBytes(0), 'a.jpeg'));
    form.append('image', file(sampleBytes(0).subarray(0, 500), 'cut.jpeg'));
    form.append('image', file(fromBase64(inject('images').png), 'b.png', 'image/png'));
    form.append('note', 'not a file');
    form.append('image', file(new TextEncoder().encode('hi'), 'c.txt', 'text/plain'));
    form.append('image', file(sampleBytes(5), 'd.jpeg'));
    const res = await batch(form);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-model-version')).toBe(manifest.version);
    const body = await res.json<any>();
    expect(body.model).toEqual({ name: manifest.name, version: manifest.version });
    expect(body.results.map((r: any) => [r.index, r.filename, r.error?.status ?? 200])).toEqual([
      [0, 'a.jpeg', 200],
      [1, 'cut.jpeg', 400],
      [2, 'b.png', 200],
      [3, null, 400],
      [4, 'c.txt', 415],
      [5, 'd.jpeg', 200],
    ]);
    for (const i of [0, 2, 5]) expectClassification(body.results[i].result, manifest.classes, manifest.version);
    // The same photo alone and in a batch gets the same answer.
    const single = await (await classify(sampleBytes(5), token)).json<any>();
    expect(body.results[5].result.predictions).toEqual(single.predictions);
  });

  it('accepts 32 images and refuses 33', async () => {
    const make = (n: number) => {
      const form = new FormData();
      for (let i = 0; i < n; i++) form.append('image', file(sampleBytes(i % 4), `${i}.jpeg`));
      return form;
    };
    const ok = await batch(make(32));
    expect(ok.status).toBe(200);
    expect((await ok.json<any>()).results).toHaveLength(32);
    const tooMany = await batch(make(33));
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json<any>()).error.code).toBe('too_many_images');
  });

  it.each([
    ['a JPEG body instead of multipart', () => batch(new TextDecoder('latin1').decode(sampleBytes(0)), 'image/jpeg'), 415],
    ['an empty multipart body', () => batch(new FormData()), 400],
  ])('refuses %s', async (_, send, status) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect((await res.json<any>()).error.message).toEqual(expect.any(String));
  });
});
