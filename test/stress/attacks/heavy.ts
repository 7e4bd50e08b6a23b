import type { HeavyFormat } from '../context.ts';

export interface HeavyResult {
  name: string;
  /** What the request was answered, and how many of its images were classified. */
  status: number;
  images: number;
  classified: number;
  /** The codes of the parts refused. */
  refused: string[];
  /** From sending to the whole answer read: a bound on the CPU it took (one isolate runs one thing at a time). */
  ms: number;
  /** The longest a /healthz probe waited while it ran, from when the probe was due. */
  healthz: number;
  /** Runs it took to see one within both bounds (at most ATTEMPTS); the figures are that run's, or the last one's. */
  attempts: number;
}

/** What a /healthz sent during any request may wait, and what any request may take. */
export const STALL_BOUND_MS = 250;
export const REQUEST_BOUND_MS = 2000;
/**
 * Other work on a shared machine (builds and tests on the same 2 cores) alone delays a probe by
 * up to ~200 ms at times; what a request itself causes comes back on every run, so a request is
 * run again, up to five times, before its figures count against it.
 */
const ATTEMPTS = 5;

export interface HeavyInputs {
  token: string;
  images: Record<HeavyFormat, { share: Uint8Array; max: Uint8Array }>;
  declaredHuge: Uint8Array;
}

type Call = (path: string, init: RequestInit) => Promise<Response>;
/** A request through the Worker's handler, with the time to its whole answer. */
type Timed = (path: string, init: RequestInit) => Promise<{ res: Response; ms: number }>;

const PROBE_EVERY_MS = 25;

/**
 * Runs `work` while a /healthz is due every 25 ms. A probe starts from a timer, so it waits for the
 * isolate's event loop as a request arriving from outside does; its wait counts from when it was due.
 */
async function whileProbing(call: Call, work: () => Promise<{ res: Response; ms: number }>): Promise<{ res: Response; body: any; ms: number; healthz: number }> {
  let done = false;
  let worst = 0;
  const probing = (async () => {
    let due = Date.now() + PROBE_EVERY_MS;
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      if (done) break;
      await (await call('/healthz', {})).arrayBuffer();
      worst = Math.max(worst, Date.now() - due);
      due = Math.max(due + PROBE_EVERY_MS, Date.now());
    }
  })();
  const { res, ms } = await work();
  const body = await res.json().catch(() => null);
  done = true;
  await probing;
  return { res, body, ms, healthz: worst };
}

const file = (bytes: Uint8Array, name: string, format: HeavyFormat) => new File([bytes as Uint8Array<ArrayBuffer>], name, { type: `image/${format}` });

function batchInit(token: string, files: File[]): RequestInit {
  const form = new FormData();
  for (const f of files) form.append('image', f);
  return { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form };
}

/**
 * The heaviest requests the limits let through, in each format: one image at the per-image limit
 * (1024x1024), a batch of eight of them, and a batch of 32 images at their share of the batch
 * budget (512x512); then the attack run's batch of 32 tiny frames declaring 4096x4096, which must
 * be refused part by part from the headers.
 */
export async function runHeavy(call: Call, send: Timed, inputs: HeavyInputs): Promise<{ results: HeavyResult[]; idle: number }> {
  // The same probes with nothing else to do: what this machine alone makes them wait.
  const idle = (await whileProbing(call, async () => (await new Promise((resolve) => setTimeout(resolve, 1000)), { res: new Response('{}'), ms: 1000 }))).healthz;
  const results: HeavyResult[] = [];
  const run = async (name: string, images: number, init: () => RequestInit, path = '/v1/classify/batch') => {
    for (let attempts = 1; ; attempts++) {
      const { res, body, ms, healthz } = await whileProbing(call, () => send(path, init()));
      const parts: any[] = path === '/v1/classify' ? [res.status === 200 ? { result: body } : { error: body?.error }] : (body?.results ?? []);
      const classified = parts.filter((p) => p.result).length;
      const result = { name, status: res.status, images, classified, refused: parts.filter((p) => p.error).map((p) => p.error.code), ms, healthz, attempts };
      if ((healthz <= STALL_BOUND_MS && ms <= REQUEST_BOUND_MS) || attempts === ATTEMPTS) return void results.push(result);
    }
  };
  for (const format of ['jpeg', 'png', 'webp'] as const) {
    const { share, max } = inputs.images[format];
    await run(`1 ${format} at 1024x1024`, 1, () => ({ method: 'POST', headers: { authorization: `Bearer ${inputs.token}`, 'content-type': `image/${format}` }, body: max as Uint8Array<ArrayBuffer> }), '/v1/classify');
    await run(`batch of 8 ${format} at 1024x1024`, 8, () => batchInit(inputs.token, Array.from({ length: 8 }, (_, i) => file(max, `${i}.${format}`, format))));
    await run(`batch of 32 ${format} at 512x512`, 32, () => batchInit(inputs.token, Array.from({ length: 32 }, (_, i) => file(share, `${i}.${format}`, format))));
  }
  await run('batch of 32 webp declaring 4096x4096', 0, () => batchInit(inputs.token, Array.from({ length: 32 }, (_, i) => file(inputs.declaredHuge, `${i}.webp`, 'webp'))));
  return { results, idle };
}
