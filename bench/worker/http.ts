import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDevProcess } from '../../scripts/lib/dev-server.ts';
import { WORKER_NAME } from '../../scripts/lib/wrangler-cli.ts';

interface TimedResponse {
  status: number;
  body: string;
  ms: number;
  /** The Worker's own share, from its `Server-Timing: total;dur=` (null when it sends none). */
  workerMs: number | null;
}

/**
 * The `total` of a Server-Timing header, in milliseconds.
 *
 * @example
 * serverTimingTotal('decode;dur=1.0,total;dur=3.2;desc="in the Worker"'); // 3.2
 */
export function serverTimingTotal(header: string | undefined): number | null {
  const total = header?.match(/(?:^|,)\s*total;(?:[^,]*;)?dur=([\d.]+)/);
  return total ? Number(total[1]) : null;
}

export interface BenchClient {
  request(path: string, init?: { method?: string; headers?: Record<string, string>; body?: Uint8Array }): Promise<TimedResponse>;
  close(): void;
}

/**
 * A loopback HTTP client on one kept-alive connection, as a lab device holds one. node:http
 * rather than fetch: against a server in the same process, fetch's own p99 is ~4.7 ms and
 * node:http's ~0.7 ms, and a latency bench should measure the Worker, not its client.
 *
 * @example
 * const client = benchClient(8800);
 * const { status, ms } = await client.request('/healthz');
 */
export function benchClient(port: number): BenchClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    request: (path, init = {}) =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const req = http.request({ host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
            workerMs: serverTimingTotal(res.headers['server-timing']?.toString()),
          }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(init.body);
      }),
    close: () => agent.destroy(),
  };
}

export interface QuietWorker {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true))).on('error', () => resolve(false));
  });

/**
 * Starts `wrangler dev` for a benchmark: at log level warn, because at info every request also
 * costs wrangler a log call into Node (20% of a core during a bench on a 2-core machine), and
 * without sending any request to the Worker before the bench's own first one. Readiness is the
 * user Worker's entry in a private dev registry (written once its runtime is up) and the
 * listening port.
 *
 * @example
 * const worker = await startQuietWorker(8800, ['--var', 'MODEL_VERSION:v1']);
 * try { ... } finally { await worker.stop(); }
 */
export async function startQuietWorker(port: number, args: string[], timeoutMs = 120_000): Promise<QuietWorker> {
  const registry = mkdtempSync(join(tmpdir(), 'cellsense-bench-registry-'));
  const dev = spawnDevProcess(['--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn', ...args], { WRANGLER_REGISTRY_PATH: registry });
  const stop = async () => {
    await dev.stop();
    rmSync(registry, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(join(registry, WORKER_NAME)) && (await portOpen(port)))) {
    if (dev.exited() || Date.now() > deadline) {
      await stop();
      throw new Error(dev.exited() ? `wrangler dev exited:\n${dev.output()}` : `wrangler dev not ready after ${timeoutMs / 1000} s:\n${dev.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { port, output: dev.output, stop };
}
