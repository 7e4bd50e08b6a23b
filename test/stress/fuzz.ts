import type { FuzzCase } from './fuzz-cases.ts';

/** Anything that looks like a stack frame or a source path. */
export const LEAK = /\/work\/|node_modules|file:\/\/|\.[cm]?[jt]s:\d|\n\s+at /;

export interface FuzzTally {
  requests: number;
  statuses: Record<string, number>;
  serverErrors: number;
  hangs: number;
  /** Damaged images (or batches of them) that still decoded, answered 200 as they should be. */
  decodedAnyway: number;
  failures: string[];
}

const HANG_MS = 20_000;
// Work that blocks the isolate synchronously also holds the timer above (the test runs in the same
// isolate), so it is seen by the clock instead, which moves again once the isolate does. Every
// malformed request is answered in milliseconds; a 100 000-character device name once took 23 s.
const STALL_MS = 5_000;

/** Why an answer to a malformed request is wrong, or null when it is right. */
async function judge(c: FuzzCase, res: Response): Promise<string | null> {
  const text = await res.text();
  if (!res.headers.get('x-request-id')) return 'no X-Request-Id';
  if (LEAK.test(text)) return `leaks internals: ${text.slice(0, 200)}`;
  if (res.status >= 400 && res.status < 500) {
    if (!/^application\/json/.test(res.headers.get('content-type') ?? '')) return `4xx without JSON (${res.headers.get('content-type')})`;
    const body = JSON.parse(text);
    if (typeof body?.error?.code !== 'string' || !body.error.code || typeof body.error.message !== 'string') return `4xx without an error code: ${text.slice(0, 200)}`;
    return null;
  }
  if (res.status === 200 && c.accept === 'image') return Array.isArray(JSON.parse(text).predictions) ? null : 'a 200 that is not a classification';
  if (res.status === 200 && c.accept === 'batch') {
    const results: any[] = JSON.parse(text).results ?? [];
    const bad = results.find((r) => !(r.result || (r.error && r.error.status >= 400 && r.error.status < 500 && r.error.code)));
    return bad ? `batch part ${JSON.stringify(bad).slice(0, 200)}` : null;
  }
  return `status ${res.status}: ${text.slice(0, 200)}`;
}

/** Sends each case, `width` at a time, and tallies the answers. */
export async function runFuzz(cases: FuzzCase[], send: (path: string, init: RequestInit) => Promise<Response>, width = 4): Promise<FuzzTally> {
  const tally: FuzzTally = { requests: 0, statuses: {}, serverErrors: 0, hangs: 0, decodedAnyway: 0, failures: [] };
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      let timer: ReturnType<typeof setTimeout> | null = null;
      const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)));
      const sent = Date.now();
      const res = await Promise.race([send(c.path, c.init), hang]).finally(() => timer !== null && clearTimeout(timer));
      const took = Date.now() - sent;
      tally.requests++;
      if (res === 'hang' || took > STALL_MS) {
        tally.hangs++;
        tally.failures.push(`${c.kind} ${c.init.method ?? 'GET'} ${c.path}: ${res === 'hang' ? `no answer in ${HANG_MS} ms` : `answered after ${took} ms (over ${STALL_MS})`}`);
        if (res === 'hang') continue;
      }
      tally.statuses[res.status] = (tally.statuses[res.status] ?? 0) + 1;
      if (res.status >= 500) tally.serverErrors++;
      if (res.status === 200) tally.decodedAnyway++;
      const why = await judge(c, res);
      if (why) tally.failures.push(`${c.kind} ${c.init.method ?? 'GET'} ${c.path.slice(0, 80)}: ${why}`);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return tally;
}
