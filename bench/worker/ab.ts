import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchClient, startQuietWorker } from './http.ts';
import { measureTable, percentiles, runIfMain, type Percentiles } from './report.ts';
import { defaultModelDir, readModelFolder } from '../../trainer/export/model-folder.ts';
import { renamedVersion, seedLocalState } from '../../scripts/lib/dev-server.ts';
import { freePort, sampleImage } from '../../scripts/lib/local-setup.ts';
import { benchmarkVars } from '../../scripts/lib/wrangler-cli.ts';

interface AbBenchOptions {
  /** Timed classify requests per configuration, sequential. Default 200. */
  requests?: number;
  /** The configurations alternate this many times, so drift hits both alike. Default 4. */
  rounds?: number;
  /** Device tokens the requests rotate through (the split is sticky per device). Default 16. */
  devices?: number;
  /** Model version folder; default the repository's default model. */
  modelDir?: string;
  /** Leave printing to the caller (it prints the JSON); otherwise the table goes to stdout. */
  json?: boolean;
  log?: (line: string) => void;
}

type LatencyPercentiles = Percentiles;

interface AbBenchResult {
  model: string;
  requests: number;
  single: { config: string; classifyMs: LatencyPercentiles };
  /** Two versions live without a shadow, to tell the shadow's share of the cost. */
  two: { config: string; classifyMs: LatencyPercentiles };
  ab: { config: string; classifyMs: LatencyPercentiles; answeredBy: Record<string, number>; shadowRuns: number; shadowAgreement: number | null };
  /** /v1/info after the run: versions resident in the isolate and their weights. */
  resident: { versions: { version: string; bytes: number }[]; residentBytes: number; heapBytes: number | null; budgetBytes: number };
}

/**
 * Against `wrangler dev` on loopback, on a throwaway copy of the local state: classify latency
 * with one version alone (100%) next to two versions live (50/50, sticky per device), without and
 * with a shadow version, from the same run. The configurations alternate in rounds; the versions
 * are copies of one model, so the difference is the cost of routing, a second resident
 * version and the shadow run after each response.
 *
 * @example
 * const result = await runAbBench({ requests: 200 });
 */
export async function runAbBench(options: AbBenchOptions = {}): Promise<AbBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const requests = options.requests ?? 200;
  const rounds = options.rounds ?? 4;
  const base = await readModelFolder(options.modelDir ?? defaultModelDir());
  const [a, b, shadow] = [base.manifest.version, `${base.manifest.version}-b`, `${base.manifest.version}-shadow`];
  const state = mkdtempSync(join(tmpdir(), 'cellsense-bench-ab-'));
  try {
    log(`bench ab: publishing ${a}, ${b} and ${shadow} to a throwaway local state (${state})`);
    const tokens = await seedLocalState(state, [base, renamedVersion(base, b), renamedVersion(base, shadow)], options.devices ?? 16);
    // The classify bench's setting: wrangler at log level warn, one kept-alive node:http connection.
    const port = await freePort(8800);
    const worker = await startQuietWorker(port, ['--persist-to', state, ...benchmarkVars]);
    const client = benchClient(port);
    try {
      const image = new Uint8Array(readFileSync(sampleImage()));
      const admin = async (method: string, path: string, body?: unknown) => {
        const res = await client.request(path, {
          method,
          headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
          body: body === undefined ? undefined : new TextEncoder().encode(JSON.stringify(body)),
        });
        if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.body}`);
        return JSON.parse(res.body);
      };
      let next = 0;
      const classify = async (pin?: string) => {
        const token = pin ? tokens.admin : tokens.devices[next++ % tokens.devices.length];
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', ...(pin ? { 'x-model-version': pin } : {}) };
        const res = await client.request('/v1/classify', { method: 'POST', headers, body: image });
        if (res.status !== 200) throw new Error(`classify answered ${res.status}`);
        return { ms: res.ms, version: (JSON.parse(res.body) as { model: { version: string } }).model.version };
      };
      // Every version resident before timing: the cold loads are the classify bench's subject.
      for (const version of [a, b, shadow]) for (let i = 0; i < 5; i++) await classify(version);
      const configs = {
        single: { split: { [a]: 100 }, shadow: null },
        two: { split: { [a]: 50, [b]: 50 }, shadow: null },
        ab: { split: { [a]: 50, [b]: 50 }, shadow },
      };
      const times: Record<'single' | 'two' | 'ab', number[]> = { single: [], two: [], ab: [] };
      const answeredBy: Record<string, number> = {};
      const perRound = Math.ceil(requests / rounds);
      const since = new Date().toISOString();
      for (let round = 0; round < rounds; round++) {
        for (const name of ['single', 'two', 'ab'] as const) {
          await admin('PUT', '/v1/routing', configs[name]);
          for (let i = 0; i < 5; i++) await classify();
          for (let i = 0; i < perRound; i++) {
            const { ms, version } = await classify();
            times[name].push(ms);
            if (name === 'ab') answeredBy[version] = (answeredBy[version] ?? 0) + 1;
          }
        }
        log(`bench ab: round ${round + 1}/${rounds} done`);
      }
      const stats = await admin('GET', `/v1/stats?since=${encodeURIComponent(since)}`);
      const shadowStats = stats.versions.find((v: any) => v.version === shadow)?.shadow;
      const info = await admin('GET', '/v1/info');
      const result: AbBenchResult = {
        model: `${base.manifest.name} ${a} (copies ${b}, ${shadow})`,
        requests: perRound * rounds,
        single: { config: `${a} 100%`, classifyMs: percentiles(times.single) },
        two: { config: `${a} 50% / ${b} 50%`, classifyMs: percentiles(times.two) },
        ab: {
          config: `${a} 50% / ${b} 50%, shadow ${shadow}`,
          classifyMs: percentiles(times.ab),
          answeredBy,
          shadowRuns: shadowStats?.runs ?? 0,
          shadowAgreement: shadowStats?.agreement ?? null,
        },
        resident: {
          versions: info.models.versions.map((v: any) => ({ version: v.version, bytes: v.bytes })),
          residentBytes: info.models.residentBytes,
          heapBytes: info.models.heapBytes,
          budgetBytes: info.models.budgetBytes,
        },
      };
      if (!options.json) process.stdout.write(`\nClassify latency, one version vs two live + shadow (wrangler dev, loopback, same run)\n${formatAbBench(result)}\n`);
      return result;
    } finally {
      client.close();
      await worker.stop();
    }
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

/** The result as a Markdown table. */
function formatAbBench(r: AbBenchResult): string {
  const ms = (p: LatencyPercentiles) => `${p.p50.toFixed(1)} / ${p.p95.toFixed(1)} / ${p.p99.toFixed(1)} ms`;
  const mib = (bytes: number | null) => (bytes === null ? 'n/a' : `${(bytes / 1048576).toFixed(2)} MiB`);
  const answered = Object.entries(r.ab.answeredBy).map(([v, n]) => `${v} ${n}`).join(', ');
  const rows: [string, string][] = [
    ['model', r.model],
    ['requests per configuration (sequential, interleaved rounds)', String(r.requests)],
    [`one version: ${r.single.config}, p50 / p95 / p99`, ms(r.single.classifyMs)],
    [`two versions: ${r.two.config}, p50 / p95 / p99`, ms(r.two.classifyMs)],
    [`two versions + shadow: ${r.ab.config}, p50 / p95 / p99`, ms(r.ab.classifyMs)],
    ['p50 ratio (two + shadow / one)', `${(r.ab.classifyMs.p50 / r.single.classifyMs.p50).toFixed(2)}x`],
    ['answered by (two versions)', answered],
    ['shadow runs recorded (agreement)', `${r.ab.shadowRuns} (${r.ab.shadowAgreement === null ? 'n/a' : `${(r.ab.shadowAgreement * 100).toFixed(0)}%`})`],
    ['resident versions (weights)', r.resident.versions.map((v) => `${v.version} ${mib(v.bytes)}`).join(', ')],
    ['resident weights total / budget / wasm heap', `${mib(r.resident.residentBytes)} / ${mib(r.resident.budgetBytes)} / ${mib(r.resident.heapBytes)}`],
  ];
  return measureTable(rows);
}

runIfMain(import.meta.url, 'bench ab', runAbBench);
