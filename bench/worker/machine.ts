import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchClient } from './http.ts';
import { percentiles, type Percentiles } from './report.ts';
import { freePort } from '../../scripts/lib/local-setup.ts';

/** What the machine itself contributes to a latency tail, measured beside the Worker's figures. */
export interface MachineFloor {
  /** A server with nothing to do, in a process of its own, through the bench's own client. */
  loopbackMs: Percentiles;
  /** Timed requests behind loopbackMs. */
  loopbackRequests: number;
  /** Whether the kernel's DAMON thread (kdamond) runs; null where the kernel has no DAMON. */
  kernelReclaim: boolean | null;
}

// In its own process, as workerd is: what it measures is the loopback, the scheduler and the client.
const IDLE_SERVER = `require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.end('{}')); })
  .listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('listening'));`;

/**
 * Latency percentiles of `requests` sequential GETs (after 100 untimed) from the bench's client to
 * a Node HTTP server that does nothing: the floor under every figure of the classify bench. On
 * the 2-core VM this project is measured on, p50 0.17–0.19 ms and p99 2.5–2.6 ms.
 *
 * @example
 * const { p50, p99 } = await loopbackFloor(1000);
 */
export async function loopbackFloor(requests = 1000): Promise<Percentiles> {
  const port = await freePort(8700);
  const server = spawn(process.execPath, ['-e', IDLE_SERVER, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`the idle loopback server exited (code ${code})`)));
    });
    const client = benchClient(port);
    try {
      const ms: number[] = [];
      for (let i = 0; i < 100 + requests; i++) {
        const { status, ms: took } = await client.request('/');
        if (status !== 200) throw new Error(`the idle loopback server answered ${status}`);
        if (i >= 100) ms.push(took);
      }
      return percentiles(ms);
    } finally {
      client.close();
    }
  } finally {
    server.kill();
  }
}

/**
 * Whether a DAMON monitor (`kdamond`) is on. Where a VM's host reclaims memory through it, it holds
 * one CPU for 3–12 ms about twice a second (seen with `perf sched` on the 2-core VM), which any
 * request running then may wait behind.
 *
 * @example
 * kernelReclaimRunning(); // true, false, or null without DAMON
 */
export function kernelReclaimRunning(root = '/sys/kernel/mm/damon/admin/kdamonds'): boolean | null {
  let monitors: string[];
  try {
    monitors = readdirSync(root).filter((entry) => /^\d+$/.test(entry));
  } catch {
    return null;
  }
  return monitors.some((monitor) => {
    try {
      return readFileSync(join(root, monitor, 'state'), 'utf8').trim() === 'on';
    } catch {
      return false;
    }
  });
}

/** Both, for the classify bench. */
export async function machineFloor(requests = 1000): Promise<MachineFloor> {
  return { loopbackMs: await loopbackFloor(requests), loopbackRequests: requests, kernelReclaim: kernelReclaimRunning() };
}
