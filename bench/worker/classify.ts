import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchClient, startQuietWorker, type BenchClient, type QuietWorker } from './http.ts';
import { machineFloor, type MachineFloor } from './machine.ts';
import { measureTable, percentiles, runIfMain, slowNeighbours, type Percentiles, type SlowNeighbours } from './report.ts';
import { bundleSize } from './bundle-size.ts';
import { readIsolateMemory, type IsolateMemory } from './isolate-memory.ts';
import { defaultModelDir, readModelFolder } from '../../trainer/export/model-folder.ts';
import { seedLocalState } from '../../scripts/lib/dev-server.ts';
import { freePort, sampleImage } from '../../scripts/lib/local-setup.ts';
import { benchmarkVars } from '../../scripts/lib/wrangler-cli.ts';

interface ClassifyBenchOptions {
  /** Timed classify requests (and as many /healthz), sequential, alternating. Default 500 (p99 is then the 5th slowest, not the 2nd). */
  requests?: number;
  /** Untimed classify requests after the cold one, so the JIT has settled. Default 50. */
  warmup?: number;
  /** Fresh starts of the Worker whose first classify is timed; the median is reported. Default 5. */
  coldStarts?: number;
  /** Image to send; default the first bundled sample. */
  image?: string;
  /** Model version folder; default the repository's default model. */
  modelDir?: string;
  /** Leave printing to the caller (it prints the JSON); otherwise the table goes to stdout. */
  json?: boolean;
  /** Progress lines (stderr by default). */
  log?: (line: string) => void;
  /** Skip the bundle build (`wrangler deploy --dry-run`). */
  skipBundle?: boolean;
}

export interface ClassifyBenchResult {
  model: string;
  image: string;
  requests: number;
  /** Median over the fresh starts. */
  coldFirstClassifyMs: number;
  /** The first classify of each fresh start. */
  coldFirstClassifyRunsMs: number[];
  classifyMs: Percentiles;
  /**
   * The same requests' time inside the Worker (Server-Timing total: auth, routing, decode,
   * preprocess, infer, JSON); what is left of `classifyMs` is HTTP and wrangler dev's proxy.
   */
  classifyInWorkerMs: Percentiles | null;
  healthzMs: Percentiles;
  /**
   * As many `/healthz` requests again, in a row after the alternating ones: the tail of the path
   * itself (client, wrangler dev's proxy, workerd) for a request that does no work, beside which
   * classify's p99 / p50 can be read.
   */
  healthzAloneMs: Percentiles;
  /** Classify requests over 2x the classify p50, and how many of them had a `/healthz` next to them over 2x the `/healthz` p50. */
  slowClassify: SlowNeighbours;
  /** classify p50 / healthz p50. */
  ratio: number;
  /** Where a classify request's time goes, as means: see {@link phaseSplit}. */
  phasesMeanMs: PhaseSplit;
  bundle: { totalKiB: number; gzipKiB: number } | null;
  /**
   * The Worker isolate's memory at the end of the timed requests: its JS heap (V8 inspector; null
   * and a log line if that could not be read) and the tfjs wasm heap the model runs in (/v1/info).
   */
  isolateMemory: (IsolateMemory & { wasmHeapBytes: number | null }) | null;
  /** The same client against a server that does nothing, and the kernel's reclaim thread: the tail the machine brings. */
  machine: MachineFloor;
}

/**
 * Starts `wrangler dev` on a free loopback port with the default model, on a throwaway local
 * state (the developer's own is left alone), then measures sequentially: the first classify of several fresh
 * starts (each a new isolate; the median is reported), classify
 * and /healthz latency percentiles, the Worker's decode/preprocess/infer split, and the
 * gzip size of the deployable bundle. The wrangler process group is stopped afterwards.
 *
 * @example
 * const result = await runClassifyBench({ requests: 200 });
 */
export async function runClassifyBench(options: ClassifyBenchOptions = {}): Promise<ClassifyBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const requests = options.requests ?? 500;
  const warmup = options.warmup ?? 50;
  const imagePath = options.image ?? sampleImage();
  const image = new Uint8Array(readFileSync(imagePath));
  const type = /\.png$/i.test(imagePath) ? 'image/png' : /\.webp$/i.test(imagePath) ? 'image/webp' : 'image/jpeg';
  const version = await readModelFolder(options.modelDir ?? defaultModelDir());
  const { name } = version.manifest;
  // A throwaway state: the bench's thousand classifications stay out of the developer's statistics.
  const state = mkdtempSync(join(tmpdir(), 'cellsense-bench-classify-'));
  log(`bench classify: model ${version.manifest.version}, published to a throwaway local state (${state})`);
  const { admin, devices } = await seedLocalState(state, [version], 1);
  const local = { version: version.manifest.version, token: devices[0] };
  const port = await freePort(8800);
  const inspectorPort = await freePort(9300);
  const args = ['--inspector-port', String(inspectorPort), '--persist-to', state, '--var', `MODEL_VERSION:${local.version}`, ...benchmarkVars];
  const headers = { authorization: `Bearer ${local.token}`, 'content-type': type };
  const classify = async (client: BenchClient) => {
    const res = await client.request('/v1/classify', { method: 'POST', headers, body: image });
    if (res.status !== 200) throw new Error(`classify answered ${res.status}: ${res.body}`);
    const { timing } = JSON.parse(res.body) as { timing: { decodeMs: number; preprocessMs: number; inferMs: number } };
    return { ms: res.ms, workerMs: res.workerMs, timing };
  };

  // Each start is a new isolate: nothing loaded, no JIT, no connection yet.
  const coldStarts = options.coldStarts ?? 5;
  const cold: number[] = [];
  let worker: QuietWorker | undefined;
  let client: BenchClient | undefined;
  try {
    for (let i = 0; i < coldStarts; i++) {
      client?.close();
      await worker?.stop();
      worker = await startQuietWorker(port, args);
      client = benchClient(port);
      cold.push((await classify(client)).ms);
      log(`bench classify: fresh start ${i + 1}/${coldStarts}, first classify ${cold.at(-1)!.toFixed(0)} ms`);
    }
    const warm = client!;
    const healthz = async () => (await warm.request('/healthz')).ms;
    log(`bench classify: ${warmup} warm-up, then ${requests} classify and ${requests} /healthz requests, alternating, then ${requests} /healthz alone`);
    for (let i = 0; i < warmup; i++) await classify(warm);
    // Alternating, so both see the same machine: on a shared VM, load drifts between two
    // back-to-back series by more than the difference being measured.
    const runs = [];
    const health = [];
    for (let i = 0; i < requests; i++) {
      runs.push(await classify(warm));
      health.push(await healthz());
    }
    const alone = [];
    for (let i = 0; i < requests; i++) alone.push(await healthz());

    const heap = await readIsolateMemory(inspectorPort).catch((error: Error) => {
      log(`bench classify: isolate memory not read (${error.message})`);
      return null;
    });
    const info = await warm.request('/v1/info', { headers: { authorization: `Bearer ${admin}` } });
    const wasmHeapBytes = info.status === 200 ? ((JSON.parse(info.body) as { models: { heapBytes: number | null } }).models.heapBytes ?? null) : null;
    const isolateMemory = heap && { ...heap, wasmHeapBytes };
    log(`bench classify: ${requests * 2} requests to an idle Node server on loopback (the machine's floor)`);
    const machine = await machineFloor(requests * 2);
    const classifyMs = percentiles(runs.map((r) => r.ms));
    const inWorker = runs.map((r) => r.workerMs).filter((ms) => ms !== null);
    const healthzMs = percentiles(health);
    const median = (values: number[]) => percentiles(values).p50;
    if (!options.skipBundle) log('bench classify: building the bundle (wrangler deploy --dry-run)');
    const result: ClassifyBenchResult = {
      model: `${name} ${local.version}`,
      image: imagePath,
      requests,
      coldFirstClassifyMs: median(cold),
      coldFirstClassifyRunsMs: cold,
      classifyMs,
      classifyInWorkerMs: inWorker.length === runs.length ? percentiles(inWorker) : null,
      healthzMs,
      healthzAloneMs: percentiles(alone),
      slowClassify: slowNeighbours(runs.map((r) => r.ms), health),
      ratio: classifyMs.p50 / healthzMs.p50,
      phasesMeanMs: phaseSplit(runs),
      bundle: options.skipBundle ? null : bundleSize(),
      isolateMemory,
      machine,
    };
    if (!options.json) process.stdout.write(`\nClassify latency (Worker in wrangler dev on loopback)\n${formatClassifyBench(result)}\n`);
    return result;
  } finally {
    client?.close();
    await worker?.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

/** Mean milliseconds of a classify request, by phase; the four add up to the mean latency seen by the client. */
interface PhaseSplit {
  decode: number;
  preprocess: number;
  infer: number;
  /** Everything the Worker's own timing fields leave out: HTTP both ways, wrangler dev's proxy, auth, routing, JSON. */
  rest: number;
}

/**
 * The mean of each phase over the timed requests, and the rest of the client's latency. workerd's
 * clock moves in whole milliseconds (deployed, only across I/O; see worker/clock.ts), so one request's phases read 0, 1 or 2
 * ms and their median is always a whole number; as a phase starts at a random point of a
 * millisecond, the mean of those readings is the phase's mean duration.
 *
 * @example
 * phaseSplit([{ ms: 6.5, timing: { decodeMs: 1, preprocessMs: 0, inferMs: 2 } }]);
 * // { decode: 1, preprocess: 0, infer: 2, rest: 3.5 }
 */
export function phaseSplit(runs: { ms: number; timing: { decodeMs: number; preprocessMs: number; inferMs: number } }[]): PhaseSplit {
  if (!runs.length) throw new Error('phaseSplit needs at least one timed request');
  const mean = (pick: (run: (typeof runs)[number]) => number) => runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
  const decode = mean((r) => r.timing.decodeMs);
  const preprocess = mean((r) => r.timing.preprocessMs);
  const infer = mean((r) => r.timing.inferMs);
  return { decode, preprocess, infer, rest: mean((r) => r.ms) - decode - preprocess - infer };
}

function formatPhases(p: PhaseSplit): string {
  return `${[p.decode, p.preprocess, p.infer].map((v) => v.toFixed(2)).join(' / ')} ms, rest ${p.rest.toFixed(2)} ms`;
}

/** The serving targets: classify p50 / healthz p50, classify p99 / p50, cold first classify ms. */
const CLASSIFY_TARGETS = { ratio: 3, tail: 2, coldMs: 150 } as const;

/** The figure as printed and the target's verdict on that printed figure, so the two never disagree. */
const judged = (value: number, digits: number, most: number, unit: 'x' | ' ms') => {
  const shown = value.toFixed(digits);
  return `${shown}${unit}, ${Number(shown) <= most ? 'met' : 'NOT met'} (at most ${most}${unit})`;
};

/** The result as a Markdown table. */
export function formatClassifyBench(r: ClassifyBenchResult): string {
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const rows: [string, string][] = [
    ['model', r.model],
    ['requests (sequential, alternating with /healthz, one kept-alive loopback connection, wrangler dev)', String(r.requests)],
    ['classify p50 / p95 / p99', `${ms(r.classifyMs.p50)} / ${ms(r.classifyMs.p95)} / ${ms(r.classifyMs.p99)}`],
    ['classify inside the Worker (its Server-Timing total) p50 / p95 / p99, p99 / p50', r.classifyInWorkerMs
      ? `${ms(r.classifyInWorkerMs.p50)} / ${ms(r.classifyInWorkerMs.p95)} / ${ms(r.classifyInWorkerMs.p99)}, ${(r.classifyInWorkerMs.p99 / r.classifyInWorkerMs.p50).toFixed(2)}x`
      : 'not reported'],
    ['/healthz p50 / p95 / p99', `${ms(r.healthzMs.p50)} / ${ms(r.healthzMs.p95)} / ${ms(r.healthzMs.p99)}`],
    ['/healthz alone (as many again, in a row, no classify between) p50 / p99, p99 / p50: the tail of the path itself',
      `${ms(r.healthzAloneMs.p50)} / ${ms(r.healthzAloneMs.p99)}, ${(r.healthzAloneMs.p99 / r.healthzAloneMs.p50).toFixed(2)}x`],
    ['classify p99 / p50', judged(r.classifyMs.p99 / r.classifyMs.p50, 2, CLASSIFY_TARGETS.tail, 'x')],
    ['classify requests over 2x p50; of them, with the /healthz just before or after also over 2x its p50 (a stall that met both)',
      `${r.slowClassify.slow}; ${r.slowClassify.withSlowNeighbour}${r.slowClassify.slow ? ` (${Math.round((100 * r.slowClassify.withSlowNeighbour) / r.slowClassify.slow)}%)` : ''}`],
    ['classify p50 / healthz p50', judged(r.ratio, 2, CLASSIFY_TARGETS.ratio, 'x')],
    [`cold first classify (median of ${r.coldFirstClassifyRunsMs.length} fresh starts)`, `${judged(r.coldFirstClassifyMs, 1, CLASSIFY_TARGETS.coldMs, ' ms')}; fresh starts ${r.coldFirstClassifyRunsMs.map((v) => v.toFixed(0)).join(', ')} ms`],
    ['classify mean: in-Worker decode / preprocess / infer, and the rest (HTTP, dev proxy, auth, routing, JSON)', formatPhases(r.phasesMeanMs)],
    ['isolate memory after the run: JS heap used / reserved (V8 inspector), tfjs wasm heap', r.isolateMemory
      ? `${mib(r.isolateMemory.jsHeapUsedBytes)} / ${mib(r.isolateMemory.jsHeapTotalBytes)}, ${r.isolateMemory.wasmHeapBytes === null ? 'not reported' : mib(r.isolateMemory.wasmHeapBytes)}`
      : 'not read'],
    [`machine: the same client against an idle Node HTTP server in its own process, ${r.machine.loopbackRequests} requests, p50 / p99 (the loopback and scheduler floor)`,
      `${r.machine.loopbackMs.p50.toFixed(2)} / ${r.machine.loopbackMs.p99.toFixed(2)} ms, ${(r.machine.loopbackMs.p99 / r.machine.loopbackMs.p50).toFixed(1)}x`],
    ['machine: the kernel\'s DAMON reclaim thread (kdamond), which holds a CPU for milliseconds at a time', r.machine.kernelReclaim === null ? 'no DAMON on this kernel' : r.machine.kernelReclaim ? 'running' : 'off'],
    ['bundle (wrangler deploy --dry-run)', r.bundle ? `${r.bundle.totalKiB.toFixed(1)} KiB, gzip ${r.bundle.gzipKiB.toFixed(1)} KiB` : 'skipped'],
  ];
  return measureTable(rows);
}

runIfMain(import.meta.url, 'bench classify', runClassifyBench);
