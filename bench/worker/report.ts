import { pathToFileURL } from 'node:url';

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** Nearest-rank p50/p95/p99 of latency samples. */
export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  return { p50: at(50), p95: at(95), p99: at(99) };
}

/** How many requests of a series were slow, and how many of those had a slow neighbour in the other series. */
export interface SlowNeighbours {
  /** Requests over `factor` times the series' p50. */
  slow: number;
  /** Of those, the ones whose neighbour in the other series (just before or just after) was over `factor` times its own p50. */
  withSlowNeighbour: number;
}

/**
 * Tells a request's own slowness from the machine's: with `requests` and `neighbours` sent
 * alternately (requests[i], then neighbours[i]), a slow request whose neighbour was slow too met
 * a stall of the whole machine rather than of its own work.
 *
 * @example
 * slowNeighbours([5, 20, 5, 20], [2, 9, 2, 2]); // { slow: 2, withSlowNeighbour: 1 }
 */
export function slowNeighbours(requests: number[], neighbours: number[], factor = 2): SlowNeighbours {
  const over = (values: number[]) => {
    const limit = factor * percentiles(values).p50;
    return values.map((v) => v > limit);
  };
  const slowRequest = over(requests), slowNeighbour = over(neighbours);
  let slow = 0, withSlowNeighbour = 0;
  slowRequest.forEach((isSlow, i) => {
    if (!isSlow) return;
    slow++;
    if (slowNeighbour[i - 1] || slowNeighbour[i]) withSlowNeighbour++;
  });
  return { slow, withSlowNeighbour };
}

/** A two-column markdown table of a bench's figures. */
export function measureTable(rows: [string, string][]): string {
  return ['| measure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/**
 * Runs a bench when its file is executed directly (`tsx bench/worker/NAME.ts [--json]
 * [--requests N]`), printing the JSON result with `--json`; `npm run bench` imports it instead.
 */
export function runIfMain<T>(moduleUrl: string, name: string, run: (options: { json: boolean; requests?: number }) => Promise<T>): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const n = args.indexOf('--requests');
  run({ json, requests: n >= 0 ? Number(args[n + 1]) : undefined })
    .then((result) => json && console.log(JSON.stringify(result, null, 2)))
    .catch((error: Error) => {
      console.error(`${name}: ${error.message}`);
      process.exit(1);
    });
}
