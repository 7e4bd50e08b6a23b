import type { Random } from '../random.ts';

/**
 * What a fuzz answer may be: `error`, a 4xx JSON error; `image`, that or a classification when
 * the damaged image still decodes (a flipped bit in the scan data is still a picture), flagged for
 * review unless it answers as the undamaged image does; `batch`, that or a 200 whose every part
 * is a 4xx error or such a classification.
 */
export type Accept = 'error' | 'image' | 'batch';

export interface FuzzCase {
  kind: string;
  path: string;
  init: RequestInit;
  accept: Accept;
  /** The undamaged images the request's image (or each part, in order) was made from. */
  sources?: Uint8Array[];
}

export interface FuzzInputs {
  device: string;
  admin: string;
  /** Valid images to damage: JPEG samples, PNG, lossless and lossy WebP, an 8x8 PNG. */
  jpegs: Uint8Array[];
  png: Uint8Array;
  webps: Uint8Array[];
  tiny: Uint8Array;
}

type Generator = (r: Random, inputs: FuzzInputs) => FuzzCase;
type Bytes = Uint8Array<ArrayBuffer>;

const copy = (b: Uint8Array): Bytes => new Uint8Array(b);
const imageType = (b: Uint8Array) => (b[0] === 0xff ? 'image/jpeg' : b[0] === 0x89 ? 'image/png' : 'image/webp');
const anyImage = (r: Random, i: FuzzInputs) => r.pick([...i.jpegs.slice(0, 8), i.png, ...i.webps, i.tiny]);
const classifyInit = (token: string, body: BodyInit | null, type: string | null, extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, ...(type === null ? {} : { 'content-type': type }), ...extra },
  body,
});

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The same small file, declaring a picture far over the side limit. */
function hugeDimensions(r: Random, i: FuzzInputs): Bytes {
  const side = 4097 + r.int(60000);
  const format = r.int(3);
  if (format === 0) {
    const b = copy(i.tiny);
    const view = new DataView(b.buffer);
    view.setUint32(16, side);
    view.setUint32(20, r.int(2) ? side : 8);
    if (r.int(4)) view.setUint32(29, crc32(b.subarray(12, 29))); // IHDR CRC, usually kept valid
    return b;
  }
  if (format === 1) {
    const b = copy(i.jpegs[r.int(i.jpegs.length)]);
    for (let p = 2; p < b.length - 9; p++) {
      if (b[p] === 0xff && (b[p + 1] === 0xc0 || b[p + 1] === 0xc2)) {
        const view = new DataView(b.buffer);
        view.setUint16(p + 5, Math.min(65535, side));
        view.setUint16(p + 7, Math.min(65535, side));
        break;
      }
    }
    return b;
  }
  const b = copy(r.pick(i.webps));
  const chunk = String.fromCharCode(...b.subarray(12, 16));
  if (chunk === 'VP8L') {
    b[21] = 0xff;
    b[22] = 0xff;
    b[23] = 0xff;
    b[24] = (b[24] & 0xf0) | 0x0f;
  } else if (chunk === 'VP8X') {
    b.set([0xff, 0xff, 0x00, 0xff, 0xff, 0x00], 24);
  } else {
    b.set([0xff, 0x3f, 0xff, 0x3f], 26);
  }
  return b;
}

/** `size` bytes (starting with `head`) as a stream, made only when the request is sent. */
function zeros(size: number, head?: Uint8Array): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = new Uint8Array(Math.min(65536, size - sent));
      if (sent === 0 && head) chunk.set(head.subarray(0, Math.min(chunk.length, 1000)));
      sent += chunk.length;
      controller.enqueue(chunk);
      if (sent >= size) controller.close();
    },
  });
}

function multipart(parts: { name: string; filename?: string; type?: string; body: Uint8Array | string }[], boundary: string): Bytes {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"`;
    head += part.type ? `\r\nContent-Type: ${part.type}\r\n\r\n` : '\r\n\r\n';
    chunks.push(enc.encode(head), typeof part.body === 'string' ? enc.encode(part.body) : part.body, enc.encode('\r\n'));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.length));
  return out;
}

const batch = (token: string, body: BodyInit, type: string): FuzzCase => ({
  kind: '',
  path: '/v1/classify/batch',
  init: { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body },
  accept: 'batch',
});

const generators: [string, number, Generator][] = [
  ['truncated image', 340, (r, i) => {
    const img = anyImage(r, i);
    return { kind: '', path: '/v1/classify', init: classifyInit(i.device, copy(img.subarray(0, 1 + r.int(img.length - 2))), imageType(img)), accept: 'image', sources: [img] };
  }],
  ['bit-flipped image', 240, (r, i) => {
    const img = anyImage(r, i);
    const b = copy(img);
    // Half in the headers (markers, sizes, tables), half anywhere.
    for (let n = 1 + r.int(8); n > 0; n--) b[r.int(r.int(2) ? Math.min(b.length, 300) : b.length)] ^= 1 << r.int(8);
    return { kind: '', path: '/v1/classify', init: classifyInit(i.device, b, imageType(b)), accept: 'image', sources: [img] };
  }],
  ['huge declared dimensions', 150, (r, i) => {
    const b = hugeDimensions(r, i);
    return { kind: '', path: '/v1/classify', init: classifyInit(i.device, b, imageType(b)), accept: 'error' };
  }],
  ['wrong content type', 200, (r, i) => {
    const type = r.pick(['text/plain', 'application/json', 'image/gif', 'image/svg+xml', 'multipart/form-data; boundary=x', 'application/octet-stream', 'IMAGE/JPEGX', 'image/', `image/${r.text(1 + r.int(300))}`, ';image/jpeg', 'x'.repeat(1 + r.int(4000))]);
    return { kind: '', path: '/v1/classify', init: classifyInit(i.device, copy(anyImage(r, i)), type), accept: 'error' };
  }],
  ['missing content type', 100, (r, i) => ({ kind: '', path: r.int(2) ? '/v1/classify' : '/v1/classify/batch', init: classifyInit(i.device, copy(anyImage(r, i)), null), accept: 'error' })],
  ['broken multipart', 200, (r, i) => {
    const good = multipart([{ name: 'image', filename: 'a.png', type: 'image/png', body: i.tiny }], 'abc123');
    const variant = r.int(5);
    if (variant === 0) return { ...batch(i.device, good, 'multipart/form-data; boundary=other'), accept: 'error' };
    if (variant === 1) return { ...batch(i.device, good, 'multipart/form-data'), accept: 'error' };
    if (variant === 2) return { ...batch(i.device, copy(good.subarray(0, 1 + r.int(good.length - 20))), 'multipart/form-data; boundary=abc123'), accept: 'error' };
    if (variant === 3) return { ...batch(i.device, r.bytes(1 + r.int(3000)), `multipart/form-data; boundary=${r.text(1 + r.int(70), 'abcdef0123')}`), accept: 'error' };
    return { ...batch(i.device, `--abc123\r\n${r.text(r.int(500))}`, 'multipart/form-data; boundary=abc123'), accept: 'error' };
  }],
  ['33+ parts', 60, (r, i) => {
    const parts = Array.from({ length: 33 + r.int(40) }, (_, n) => ({ name: 'image', filename: `${n}.png`, type: 'image/png', body: i.tiny }));
    return { ...batch(i.device, multipart(parts, 'b0undary'), 'multipart/form-data; boundary=b0undary'), accept: 'error' };
  }],
  ['empty parts', 100, (r, i) => {
    const parts = Array.from({ length: 1 + r.int(5) }, (_, n) => ({ name: 'image', filename: `${n}.jpg`, type: r.pick(['image/jpeg', '', 'application/octet-stream']), body: '' }));
    return batch(i.device, multipart(parts, 'e'), 'multipart/form-data; boundary=e');
  }],
  ['non-image parts', 100, (r, i) => {
    const parts = Array.from({ length: 1 + r.int(5) }, (_, n) =>
      r.int(2) ? { name: `field${n}`, body: r.text(r.int(200)) } : { name: 'image', filename: `${n}.txt`, type: r.pick(['text/plain', 'application/pdf', 'image/gif']), body: r.text(1 + r.int(200)) });
    return batch(i.device, multipart(parts, 'n'), 'multipart/form-data; boundary=n');
  }],
  ['damaged image parts', 60, (r, i) => {
    const sources: Uint8Array[] = [];
    const parts = Array.from({ length: 1 + r.int(4) }, (_, n) => {
      const img = anyImage(r, i);
      sources.push(img);
      return { name: 'image', filename: `${n}`, type: imageType(img), body: copy(img.subarray(0, 1 + r.int(img.length - 2))) };
    });
    return { ...batch(i.device, multipart(parts, 'd'), 'multipart/form-data; boundary=d'), sources };
  }],
  // Streamed without Content-Length, so only the running size cap can refuse them.
  ['oversize body', 20, (r, i) => ({ kind: '', path: '/v1/classify', init: classifyInit(i.device, zeros(10 * 1024 * 1024 + 1 + r.int(100_000), i.jpegs[0]), 'image/jpeg'), accept: 'error' })],
  ['oversize batch', 3, (r, i) => ({ ...batch(i.device, zeros(32 * 1024 * 1024 + 1 + r.int(1000)), 'multipart/form-data; boundary=z'), accept: 'error' })],
  ['junk JSON', 500, (r, i) => {
    const [path, method, token, valid] = r.pick([
      ['/v1/feedback', 'POST', i.device, `{"id":"${crypto.randomUUID()}","label":"NEUTROPHIL"}`],
      ['/v1/routing', 'PUT', i.admin, '{"split":{"s-a":60,"s-b":40},"sticky":true}'],
      ['/v1/devices', 'POST', i.admin, '{"name":"fuzz-device","admin":false,"pins":[]}'],
      ['/v1/devices/no-such-device', 'PATCH', i.admin, '{"pins":["s-a"]}'],
    ] as const);
    const body = r.pick([
      () => valid.slice(0, r.int(valid.length - 1)),
      () => r.text(r.int(2000)),
      () => r.bytes(1 + r.int(2000)),
      () => '['.repeat(1 + r.int(5000)) + ']'.repeat(r.int(5000)),
      () => JSON.stringify(r.pick([null, 7, 'x', [], [valid], { id: 5, label: [] }, { split: { 's-a': 50 } }, { split: { 'no-such': 100 } }, { split: {} }, { name: 'bad name!' }, { name: 'x'.repeat(100_000) }, { pins: 'all' }, { id: 'not-a-uuid', label: 'NEUTROPHIL' }, { id: crypto.randomUUID(), label: 'NOT_A_CLASS' }])),
    ])();
    const type = r.int(10) ? 'application/json' : r.pick(['text/plain', '', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded']);
    return { kind: '', path, init: { method, headers: { authorization: `Bearer ${token}`, ...(type ? { 'content-type': type } : {}) }, body: body as BodyInit }, accept: 'error' };
  }],
  ['odd headers', 250, (r, i) => {
    const variant = r.int(4);
    if (variant === 0) {
      const auth = r.pick(['Bearer', 'Bearer ', 'bearer  x y', 'Basic dXNlcjpwYXNz', 'Token abc', `Bearer ${'A'.repeat(r.int(9000))}`, `Bearer cs_${r.text(r.int(80))}`, `Bearer\t${i.device}x`, `${i.device}`, `Bearer ${i.device.slice(0, -1)}`]);
      return { kind: '', path: r.pick(['/v1/classify', '/v1/models', '/v1/info', '/v1/stats']), init: { method: 'GET', headers: { authorization: auth } }, accept: 'error' };
    }
    if (variant === 1) {
      const pin = r.text(1 + r.int(2000), 'abcdefghijklmnopqrstuvwxyz0123456789._-');
      return { kind: '', path: '/v1/classify', init: classifyInit(i.device, copy(i.tiny), 'image/png', { 'x-model-version': pin }), accept: 'error' };
    }
    if (variant === 2) {
      return { kind: '', path: '/v1/classify', init: classifyInit(i.device, copy(i.tiny), `image/${r.text(1 + r.int(8000), 'abcxyz-+.')}`), accept: 'error' };
    }
    return { kind: '', path: `/v1/${r.text(1 + r.int(20), 'abcxyz')}`, init: { headers: { authorization: `Bearer ${i.device}`, [`x-${r.text(1 + r.int(60), 'abcdefgh')}`]: r.text(r.int(16000), 'abcdefgh ;=') } }, accept: 'error' };
  }],
  ['unknown route or method', 200, (r, i) => {
    const path = r.pick(['/v1/classify', '/v1/classify/batch', '/healthz', '/openapi.json', '/v1/feedback', `/v1/${r.text(1 + r.int(40), 'abc/._%2e')}`, `/${r.text(1 + r.int(200), 'abc/._-')}`, '/v1/classify/extra', '/console/no-such-file.js', '/v1/models/x/y/z']);
    // workerd's Request refuses non-standard methods itself, before the Worker sees them.
    const method = r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'POST', 'OPTIONS']);
    const known = (path === '/healthz' || path === '/openapi.json') && method === 'GET';
    const token: Record<string, string> = r.int(3) ? { authorization: `Bearer ${i.device}` } : {};
    // POST to the real routes without a body is itself malformed (empty body, no type).
    return { kind: '', path: known ? `${path}/x` : path, init: { method, headers: token }, accept: 'error' };
  }],
];

/** `count` malformed requests from the seed, in a shuffled order, each labelled with its kind. */
export function fuzzCases(r: Random, inputs: FuzzInputs, count: number): FuzzCase[] {
  const total = generators.reduce((n, [, weight]) => n + weight, 0);
  const cases: FuzzCase[] = [];
  for (const [kind, weight, generate] of generators) {
    for (let n = Math.round((weight / total) * count); n > 0; n--) cases.push({ ...generate(r, inputs), kind });
  }
  for (let k = cases.length - 1; k > 0; k--) {
    const j = r.int(k + 1);
    [cases[k], cases[j]] = [cases[j], cases[k]];
  }
  return cases;
}
