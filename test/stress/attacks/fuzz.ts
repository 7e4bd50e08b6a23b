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
  /** Damaged images classified, and of those the ones flagged for review. */
  damaged: number;
  flagged: number;
  failures: string[];
}

const HANG_MS = 20_000;
// Work that blocks the isolate synchronously also holds the timer above (the test runs in the same
// isolate), so it is seen by the clock instead, which moves again once the isolate does. Every
// malformed request is answered in milliseconds; a 100 000-character device name once took 23 s.
const STALL_MS = 5_000;

/** How the Worker answers an undamaged image: its probability for each class. */
export type Answers = Map<Uint8Array, Record<string, number>>;

/** Largest change of any class's probability that still counts as the same answer. */
const SAME_ANSWER = 0.05;

const probabilitiesOf = (result: any): Record<string, number> => Object.fromEntries(result.predictions.map((p: any) => [p.label, p.probability]));

/**
 * Why a classification of a damaged image is wrong, or null: a damaged image may only be
 * answered without the review flag when the damage left the picture as it was, so that its answer
 * is the undamaged image's (same top class, no probability off by more than 0.05).
 */
function judgeDamaged(result: any, source: Uint8Array | undefined, answers: Answers): string | null {
  if (!Array.isArray(result?.predictions)) return 'a 200 that is not a classification';
  if (result.review === true) return null;
  const undamaged = source && answers.get(source);
  const now = probabilitiesOf(result);
  const top = (p: Record<string, number>) => Object.entries(p).sort((a, b) => b[1] - a[1])[0][0];
  if (undamaged && top(undamaged) === top(now) && Object.keys(now).every((label) => Math.abs(now[label] - undamaged[label]) <= SAME_ANSWER)) return null;
  const was = undamaged ? `${top(undamaged)} ${undamaged[top(undamaged)].toFixed(3)}` : 'unknown';
  return `a damaged image answered ${result.top.label} ${result.top.probability.toFixed(3)} without review (undamaged: ${was})`;
}

/** Why an answer to a malformed request is wrong, or null when it is right. */
async function judge(c: FuzzCase, res: Response, answers: Answers): Promise<string | null> {
  const text = await res.text();
  if (!res.headers.get('x-request-id')) return 'no X-Request-Id';
  if (LEAK.test(text)) return `leaks internals: ${text.slice(0, 200)}`;
  if (res.status >= 400 && res.status < 500) {
    if (!/^application\/json/.test(res.headers.get('content-type') ?? '')) return `4xx without JSON (${res.headers.get('content-type')})`;
    const body = JSON.parse(text);
    if (typeof body?.error?.code !== 'string' || !body.error.code || typeof body.error.message !== 'string') return `4xx without an error code: ${text.slice(0, 200)}`;
    return null;
  }
  if (res.status === 200 && c.accept === 'image') return judgeDamaged(JSON.parse(text), c.sources?.[0], answers);
  if (res.status === 200 && c.accept === 'batch') {
    const results: any[] = JSON.parse(text).results ?? [];
    const bad = results.find((r) => !(r.result || (r.error && r.error.status >= 400 && r.error.status < 500 && r.error.code)));
    if (bad) return `batch part ${JSON.stringify(bad).slice(0, 200)}`;
    for (const r of results) {
      const why = r.result ? judgeDamaged(r.result, c.sources?.[r.index], answers) : null;
      if (why) return `batch part ${r.index}: ${why}`;
    }
    return null;
  }
  return `status ${res.status}: ${text.slice(0, 200)}`;
}

const classificationsIn = (body: any): any[] => (body.results ? body.results.flatMap((r: any) => (r.result ? [r.result] : [])) : [body]);

/**
 * The Worker's answer to each undamaged image the cases were made from.
 *
 * @example
 * const answers = await answersFor(cases, (bytes) => send('/v1/classify', { method: 'POST', body: bytes }));
 */
export async function answersFor(cases: FuzzCase[], classify: (bytes: Uint8Array) => Promise<Response>): Promise<Answers> {
  const answers: Answers = new Map();
  for (const source of new Set(cases.flatMap((c) => c.sources ?? []))) {
    const res = await classify(source);
    if (res.status !== 200) throw new Error(`an undamaged fuzz image was answered ${res.status}: ${await res.text()}`);
    answers.set(source, probabilitiesOf(await res.json()));
  }
  return answers;
}

/** Sends each case, `width` at a time, and tallies the answers. */
export async function runFuzz(cases: FuzzCase[], send: (path: string, init: RequestInit) => Promise<Response>, answers: Answers, width = 4): Promise<FuzzTally> {
  const tally: FuzzTally = { requests: 0, statuses: {}, serverErrors: 0, hangs: 0, decodedAnyway: 0, damaged: 0, flagged: 0, failures: [] };
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
      const why = await judge(c, res.clone(), answers);
      if (res.status === 200 && c.sources) {
        const classified = classificationsIn(await res.json());
        tally.damaged += classified.length;
        tally.flagged += classified.filter((r) => r.review === true).length;
      }
      if (why) tally.failures.push(`${c.kind} ${c.init.method ?? 'GET'} ${c.path.slice(0, 80)}: ${why}`);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return tally;
}
