import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cpuLoopMs, formatCpuLoop, type CpuLoopMs } from '../../bench/train/cpu-speed.ts';

describe('cpuLoopMs', () => {
  it('times the loop once on every CPU', () => {
    const loop = cpuLoopMs();
    if ('skipped' in loop) throw new Error(loop.skipped);
    expect(loop.ms).toHaveLength(availableParallelism());
    for (const ms of loop.ms) expect(ms).toBeGreaterThan(1);
  });

  it('says which CPU it could not pin to instead of timing it', () => {
    const loop = cpuLoopMs(availableParallelism() + 1);
    expect(loop).toEqual({ skipped: expect.stringContaining(`the loop pinned to CPU ${availableParallelism()} failed`) });
  });
});

describe('formatCpuLoop', () => {
  it.each<[string, CpuLoopMs, string]>([
    ['equal CPUs', { ms: [800.4, 799.6] }, 'the same loop pinned to each CPU: 800 / 800 ms (slowest 1.00x the fastest)'],
    ['a slow CPU 0', { ms: [1320, 780] }, 'the same loop pinned to each CPU: 1320 / 780 ms (slowest 1.69x the fastest)'],
    ['skipped', { skipped: 'taskset could not run' }, 'per-CPU loop not measured: taskset could not run'],
  ])('%s', (_, loop, line) => {
    expect(formatCpuLoop(loop)).toBe(line);
  });
});
