import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** Milliseconds the same loop took pinned to each CPU, in CPU order; or why it was not measured. */
export type CpuLoopMs = { ms: number[] } | { skipped: string };

// Scalar work with no memory traffic to speak of: what differs between CPUs is the CPU itself.
// In a function, so V8 optimises it (top-level `-e` variables are slow script-scope globals).
const LOOP = `(() => { const a = new Float64Array(1024).fill(1.0001); let s = 0; const t = performance.now();
for (let r = 0; r < 400000; r++) for (let i = 0; i < 1024; i++) s += a[i] * a[(i + r) & 1023];
process.stdout.write(String(performance.now() - t + (s > 0 ? 0 : NaN))); })();`;

/**
 * Runs one fixed loop pinned to each CPU in turn (`taskset`, from util-linux), one after another.
 * A virtual machine's CPUs need not be equal: on the 2-core VM this project is measured on, CPU 0
 * ran it 1.6-1.8x slower than CPU 1 with nothing else running, so a single-thread figure depends
 * on which CPU the thread landed on, and two replicas train at the pace of the slower CPU.
 *
 * @example
 * cpuLoopMs(); // { ms: [1320.4, 781.9] }
 */
export function cpuLoopMs(cpus = availableParallelism()): CpuLoopMs {
  const ms: number[] = [];
  for (let cpu = 0; cpu < cpus; cpu++) {
    const run = spawnSync('taskset', ['-c', String(cpu), process.execPath, '-e', LOOP], { encoding: 'utf8', timeout: 30_000 });
    if (run.error) return { skipped: `taskset could not run (${run.error.message}): it comes with util-linux` };
    const value = Number(run.stdout);
    if (run.status !== 0 || !(value > 0)) return { skipped: `the loop pinned to CPU ${cpu} failed: ${(run.stderr || run.stdout).trim().split('\n').at(-1)}` };
    ms.push(value);
  }
  return { ms };
}

/**
 * One line for the bench header.
 *
 * @example
 * formatCpuLoop({ ms: [1320, 780] }); // 'the same loop pinned to each CPU: 1320 / 780 ms (slowest 1.69x the fastest)'
 */
export function formatCpuLoop(loop: CpuLoopMs): string {
  if ('skipped' in loop) return `per-CPU loop not measured: ${loop.skipped}`;
  const spread = Math.max(...loop.ms) / Math.min(...loop.ms);
  return `the same loop pinned to each CPU: ${loop.ms.map((v) => v.toFixed(0)).join(' / ')} ms (slowest ${spread.toFixed(2)}x the fastest)`;
}
