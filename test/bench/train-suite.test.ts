import { describe, expect, it } from 'vitest';
import { bestOf, formatTrainSuite, ratios, type TrainSuiteResult } from '../../bench/train/suite.ts';
import type { TorchRow } from '../../bench/train/torch-baseline.ts';
import type { TrainBenchRow } from '../../bench/train/train-bench.ts';
import { defaultWorkers } from '../../trainer/parallel/data-parallel.ts';

const project = (arch: string, workers: number, train: number, warmup?: number): TrainBenchRow => ({
  arch, inputSize: 64, backend: 'wasm', batch: 32, workers, trainImagesPerSecond: train, inferImagesPerSecond: 500, trainImagesPerCpuSecond: train,
  ...(warmup ? { warmupImagesPerSecond: warmup } : {}),
});
const torch = (arch: string, threads: number, train: number, freedMemoryKept = true): TorchRow => ({
  arch, inputSize: 64, backend: 'pytorch 1.13 cpu', batch: 32, threads, freedMemoryKept, trainImagesPerSecond: train, inferImagesPerSecond: 600, trainImagesPerCpuSecond: train,
});

describe('train bench suite', () => {
  it('keeps the best round of each configuration and every round as samples', () => {
    const best = bestOf([[project('compact', 1, 100), project('compact', 2, 150)], [project('compact', 1, 120), project('compact', 2, 90)]],
      (r) => `${r.arch} ${r.workers}`);
    expect(best.map((r) => [r.workers, r.trainImagesPerSecond, r.samples])).toEqual([[1, 120, [100, 120]], [2, 150, [150, 90]]]);
  });

  it('compares the default replica count with PyTorch at its best thread count, and names the best count', () => {
    const workers = defaultWorkers('wasm');
    const rows = [project('tutorial', workers, 300), ...(workers === 1 ? [] : [project('tutorial', 1, 330)])];
    const [r] = ratios(rows, [torch('tutorial', 2, 250), torch('tutorial', 1, 200)]);
    expect(r).toMatchObject({ arch: 'tutorial', project: 300, pytorch: 250, ratio: 1.2, target: 1, bestWorkers: 1 });
    expect(r.best).toBe(workers === 1 ? 300 : 330);
  });

  it('pairs each round of the project with the PyTorch round after it, at PyTorch\'s best thread count in that round', () => {
    const workers = defaultWorkers('wasm');
    const mine = bestOf([[project('compact', workers, 300)], [project('compact', workers, 360)], [project('compact', workers, 330)]], (r) => `${r.arch} ${r.workers}`);
    const theirs = bestOf([
      [torch('compact', 2, 500), torch('compact', 1, 280)], [torch('compact', 2, 600), torch('compact', 1, 290)], [torch('compact', 2, 250), torch('compact', 1, 300)],
    ], (r) => `${r.arch} ${r.threads}`);
    const [r] = ratios(mine, theirs);
    // Best against best is 360 / 600; round by round 300/500, 360/600, 330/300.
    expect(r.ratio).toBeCloseTo(0.6);
    expect(r.roundRatios.map((v) => +v.toFixed(2))).toEqual([0.6, 0.6, 1.1]);
    const [single] = ratios([project('compact', workers, 140)], [torch('compact', 1, 280)]);
    expect(single.roundRatios).toEqual([0.5]);
  });

  it('prints tables with the load, the ratio against the target and what was skipped', () => {
    const result: TrainSuiteResult = {
      results: [project('compact', defaultWorkers('wasm'), 140, 101.5)], pytorch: [torch('compact', 1, 280)], skipped: [{ backend: 'cpu', reason: 'too slow' }],
      ratios: ratios([project('compact', defaultWorkers('wasm'), 140)], [torch('compact', 1, 280)]),
      epochSkipped: 'not requested', machine: { cores: 2, load: { start: 1.5 }, cpuLoopMs: { start: { ms: [1320, 780] }, round1: { skipped: 'no taskset' } } }, rounds: 3, warmupSeconds: 3, peakRssMB: 400,
    };
    const text = formatTrainSuite(result, 32);
    expect(text).toContain('steady state (after 3 s of warm-up steps), best of 3 interleaved rounds');
    // The warm-up's own figure beside the steady one; a row without one (PyTorch's here) shows '-'.
    expect(text).toMatch(/compact\s+64x64\s+wasm\s+\d+\s+140\.0\s+101\.5\s+500\.0\s+140\.0$/m);
    expect(text).toMatch(/compact\s+64x64\s+pytorch 1\.13 cpu\s+1 thr\s+280\.0\s+-\s+600\.0\s+280\.0$/m);
    expect(text).toContain('load average: start 1.50');
    expect(text).toContain('(start: the same loop pinned to each CPU: 1320 / 780 ms (slowest 1.69x the fastest))');
    expect(text).toContain('(round1: per-CPU loop not measured: no taskset)');
    expect(text).toMatch(/compact\s+140\.0\s+280\.0\s+0\.50\s+>= 0\.7 NOT met\s+\S+ \(0\.50\)\s+0\.50\s+0\.50$/m);
    expect(text).toContain('skipped cpu: too slow');
    expect(text).toContain("PyTorch's rows: glibc malloc keeps freed memory");
    expect(formatTrainSuite({ ...result, pytorch: [] }, 32)).not.toContain("PyTorch's rows");
    expect(formatTrainSuite({ ...result, pytorch: [torch('compact', 1, 280, false)] }, 32)).toContain("PyTorch's rows: the allocator was left as it is");
    expect(text).toContain('epoch timing skipped: not requested');
  });
});
