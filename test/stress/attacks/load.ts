import { percentile, type Random } from '../random.ts';

export interface LoadInputs {
  devices: string[];
  admin: string;
  classes: string[];
  tiny: Uint8Array<ArrayBuffer>;
  samples: Uint8Array<ArrayBuffer>[];
  seconds: number;
  /** The routing change made half-way: versions allowed before, after, and the change itself. */
  before: string[];
  after: string[];
  change: () => Promise<Response>;
}

export interface LoadResult {
  requests: number;
  errors: string[];
  p50: number;
  p99: number;
  /** Ids answered 200 (to check they were all stored once) and feedback stored (id -> label). */
  ids: string[];
  feedback: Map<string, string>;
}

type Send = (path: string, init: RequestInit) => Promise<Response>;

function batchBody(parts: Uint8Array<ArrayBuffer>[]): FormData {
  const form = new FormData();
  parts.forEach((bytes, i) => form.append('image', new File([bytes], `${i}.${bytes[0] === 0xff ? 'jpg' : 'png'}`, { type: bytes[0] === 0xff ? 'image/jpeg' : 'image/png' })));
  return form;
}

/** 8 (or `devices.length`) clients for `seconds`, mixing classify, batch, feedback and stats; the routing changes half-way. */
export async function runLoad(r: Random, inputs: LoadInputs, send: Send): Promise<LoadResult> {
  const latencies: number[] = [];
  const errors: string[] = [];
  const ids: string[] = [];
  const feedback = new Map<string, string>();
  const start = Date.now();
  const end = start + inputs.seconds * 1000;
  let changeStarted = Infinity;
  let changeDone = Infinity;

  const checkVersion = (version: string | null, sentAt: number, doneAt: number, what: string) => {
    const allowed = sentAt > changeDone ? inputs.after : doneAt < changeStarted ? inputs.before : [...inputs.before, ...inputs.after];
    if (!version || !allowed.includes(version)) errors.push(`${what} answered by ${version}, routed then: ${allowed.join(',')}`);
  };

  const client = async (token: string) => {
    const mine: string[] = [];
    while (Date.now() < end) {
      const op = r.int(100);
      const sentAt = Date.now();
      let res: Response;
      let what: string;
      if (op < 55) {
        const bytes = r.int(10) < 7 ? inputs.tiny : r.pick(inputs.samples);
        what = 'classify';
        res = await send('/v1/classify', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': bytes[0] === 0xff ? 'image/jpeg' : 'image/png' }, body: bytes });
      } else if (op < 70) {
        what = 'batch';
        const parts = Array.from({ length: 2 + r.int(3) }, () => (r.int(3) ? inputs.tiny : r.pick(inputs.samples)));
        res = await send('/v1/classify/batch', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: batchBody(parts) });
      } else if (op < 85 && mine.length) {
        what = 'feedback';
        const id = mine.splice(r.int(mine.length), 1)[0];
        const label = r.pick(inputs.classes);
        res = await send('/v1/feedback', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ id, label }) });
        if (res.status === 201) feedback.set(id, label);
      } else {
        what = 'stats';
        res = await send('/v1/stats', { headers: { authorization: `Bearer ${inputs.admin}` } });
      }
      const doneAt = Date.now();
      latencies.push(doneAt - sentAt);
      const expected = what === 'feedback' ? 201 : 200;
      const body: any = await res.json().catch(() => null);
      if (res.status !== expected) {
        errors.push(`${what}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
        continue;
      }
      if (what === 'classify') {
        checkVersion(res.headers.get('x-model-version'), sentAt, doneAt, what);
        ids.push(body.id);
        mine.push(body.id);
      } else if (what === 'batch') {
        checkVersion(res.headers.get('x-model-version'), sentAt, doneAt, what);
        for (const part of body.results) {
          if (!part.result) errors.push(`batch part: ${JSON.stringify(part.error)}`);
          else (ids.push(part.result.id), mine.push(part.result.id));
        }
      }
    }
  };

  const changer = (async () => {
    await new Promise((resolve) => setTimeout(resolve, (inputs.seconds * 1000) / 2));
    changeStarted = Date.now();
    const res = await inputs.change();
    changeDone = Date.now();
    if (res.status !== 200) errors.push(`routing change: ${res.status} ${await res.text()}`);
  })();
  await Promise.all([...inputs.devices.map(client), changer]);
  return { requests: latencies.length, errors, p50: percentile(latencies, 50), p99: percentile(latencies, 99), ids, feedback };
}
