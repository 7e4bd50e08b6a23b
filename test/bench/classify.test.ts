import { describe, expect, it } from 'vitest';
import { formatClassifyBench, type ClassifyBenchResult } from '../../bench/worker/classify.ts';

const result = (classify: { p50: number; p99: number }, healthzP50: number, coldMs: number): ClassifyBenchResult => ({
  model: 'm v1',
  image: 'a.jpeg',
  requests: 500,
  coldFirstClassifyMs: coldMs,
  coldFirstClassifyRunsMs: [coldMs],
  classifyMs: { p50: classify.p50, p95: classify.p50, p99: classify.p99 },
  classifyInWorkerMs: null,
  healthzMs: { p50: healthzP50, p95: healthzP50, p99: healthzP50 },
  healthzAloneMs: { p50: 1.6, p95: 4, p99: 7.2 },
  slowClassify: { slow: 8, withSlowNeighbour: 6 },
  ratio: classify.p50 / healthzP50,
  phasesMeanMs: { decode: 1, preprocess: 0.5, infer: 2, rest: 1 },
  bundle: null,
  isolateMemory: null,
  machine: { loopbackMs: { p50: 0.19, p95: 0.6, p99: 2.52 }, loopbackRequests: 1000, kernelReclaim: true },
});

const row = (table: string, label: string) => table.split('\n').find((line) => line.startsWith(`| ${label}`));

describe('formatClassifyBench targets', () => {
  it.each([
    // Judged on the figure as printed, so the verdict never contradicts the number beside it.
    { name: 'all within', r: result({ p50: 6, p99: 12 }, 2.002, 150), ratio: '3.00x, met (at most 3x)', tail: '2.00x, met (at most 2x)', cold: 'met (at most 150 ms)' },
    { name: 'all over', r: result({ p50: 6.03, p99: 12.1 }, 2, 150.06), ratio: '3.02x, NOT met (at most 3x)', tail: '2.01x, NOT met (at most 2x)', cold: 'NOT met (at most 150 ms)' },
  ])('$name', ({ r, ratio, tail, cold }) => {
    const table = formatClassifyBench(r);
    expect(row(table, 'classify p50 / healthz p50')).toBe(`| classify p50 / healthz p50 | ${ratio} |`);
    expect(row(table, 'classify p99 / p50')).toBe(`| classify p99 / p50 | ${tail} |`);
    expect(row(table, 'cold first classify')).toContain(cold);
    expect(row(table, 'classify inside the Worker')).toContain('not reported');
    expect(row(table, '/healthz alone')).toMatch(/ \| 1\.6 ms \/ 7\.2 ms, 4\.50x \|$/);
    expect(row(table, 'classify requests over 2x p50')).toMatch(/ \| 8; 6 \(75%\) \|$/);
    expect(row(table, 'machine: the same client against an idle Node HTTP server')).toMatch(/, 1000 requests, p50 \/ p99 .* \| 0\.19 \/ 2\.52 ms, 13\.3x \|$/);
  });
});

describe('formatClassifyBench machine rows', () => {
  it.each([
    { kernelReclaim: true, shown: 'running' },
    { kernelReclaim: false, shown: 'off' },
    { kernelReclaim: null, shown: 'no DAMON on this kernel' },
  ])('kernel reclaim $kernelReclaim', ({ kernelReclaim, shown }) => {
    const r = result({ p50: 6, p99: 12 }, 2, 100);
    const table = formatClassifyBench({ ...r, machine: { ...r.machine, kernelReclaim } });
    expect(row(table, "machine: the kernel's DAMON reclaim thread")).toMatch(new RegExp(` \\| ${shown} \\|$`));
  });
});
