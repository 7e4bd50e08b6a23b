import type { Random } from '../random.ts';

export interface RateLimitInputs {
  admin: string;
  tiny: Uint8Array<ArrayBuffer>;
  devices: number;
  /** Images each device may send in the window. */
  limit: number;
  seconds: number;
}

export interface RateLimitResult {
  requests: number;
  refused: number;
  /** Images answered 200 per device name (a batch counts its parts). */
  accepted: Map<string, number>;
  /** Answers that were neither a 200 nor a proper 429 (JSON, rate_limited, Retry-After within the window). */
  errors: string[];
}

type Send = (path: string, init: RequestInit) => Promise<Response>;

const json = (token: string, method: string, body?: unknown): RequestInit => ({
  method,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: body === undefined ? undefined : JSON.stringify(body),
});

/** Headers a client might hope the limit is keyed by: none of them is. */
function spoofed(r: Random): Record<string, string> {
  const ip = () => `${r.int(256)}.${r.int(256)}.${r.int(256)}.${r.int(256)}`;
  return r.pick<Record<string, string>>([
    {},
    { 'x-forwarded-for': ip() },
    { 'cf-connecting-ip': ip(), 'true-client-ip': ip() },
    { 'x-real-ip': ip(), forwarded: `for=${ip()}` },
    { 'x-request-id': `spoof-${r.text(12, 'abcdef0123456789')}` },
  ]);
}

function batchOf(tiny: Uint8Array<ArrayBuffer>, parts: number): FormData {
  const form = new FormData();
  for (let i = 0; i < parts; i++) form.append('image', new File([tiny], `${i}.png`, { type: 'image/png' }));
  return form;
}

/**
 * `devices` devices, each a client sending single images and batches of 2-6 as fast as it is
 * answered for `seconds`, with spoofed forwarding headers, its token's scheme in other cases, and
 * its token rotated by an admin half-way (a second device under the name in capitals is refused,
 * then the token is revoked and issued anew under the same name). Counts the images each device
 * got answered.
 */
export async function runRateLimits(r: Random, inputs: RateLimitInputs, send: Send): Promise<RateLimitResult> {
  const result: RateLimitResult = { requests: 0, refused: 0, accepted: new Map(), errors: [] };
  const stamp = Date.now().toString(36);
  const provision = async (name: string) => (await (await send('/v1/devices', json(inputs.admin, 'POST', { name }))).json<{ token: string }>()).token;

  const client = async (name: string) => {
    let token = await provision(name);
    const end = Date.now() + inputs.seconds * 1000;
    let rotated = false;
    while (Date.now() < end) {
      if (!rotated && Date.now() > end - (inputs.seconds * 1000) / 2) {
        rotated = true;
        const twin = await send('/v1/devices', json(inputs.admin, 'POST', { name: name.toUpperCase() }));
        if (twin.status !== 409) result.errors.push(`a second device "${name.toUpperCase()}" beside "${name}": ${twin.status}`);
        await send(`/v1/devices/${name}`, json(inputs.admin, 'DELETE'));
        token = await provision(name);
      }
      const parts = r.int(3) ? 0 : 2 + r.int(5);
      const scheme = r.pick(['Bearer', 'bearer', 'BEARER']);
      const headers: Record<string, string> = { authorization: `${scheme} ${token}`, ...spoofed(r), ...(parts ? {} : { 'content-type': 'image/png' }) };
      const res = await send(parts ? '/v1/classify/batch' : '/v1/classify', { method: 'POST', headers, body: parts ? batchOf(inputs.tiny, parts) : inputs.tiny });
      result.requests++;
      const body = await res.json<any>().catch(() => null);
      if (res.status === 200) {
        result.accepted.set(name, (result.accepted.get(name) ?? 0) + (parts || 1));
      } else if (res.status === 429) {
        result.refused++;
        const retryAfter = Number(res.headers.get('retry-after'));
        if (body?.error?.code !== 'rate_limited' || !Number.isInteger(retryAfter) || retryAfter < 1 || retryAfter > 3600) {
          result.errors.push(`429 with Retry-After ${res.headers.get('retry-after')}: ${JSON.stringify(body).slice(0, 120)}`);
        }
      } else {
        result.errors.push(`${parts ? 'batch' : 'classify'}: ${res.status} ${JSON.stringify(body).slice(0, 120)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: inputs.devices }, (_, i) => client(`limited-${stamp}-${i}`)));
  return result;
}
