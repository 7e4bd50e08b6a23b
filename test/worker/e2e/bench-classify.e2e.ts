import { describe, expect, it } from 'vitest';
import { formatClassifyBench, phaseSplit, runClassifyBench } from '../../../bench/worker/classify.ts';

const run = (ms: number, decodeMs: number, preprocessMs: number, inferMs: number) => ({ ms, timing: { decodeMs, preprocessMs, inferMs } });

describe('phaseSplit', () => {
  it.each([
    { name: 'one request', runs: [run(6.5, 1, 0, 2)], want: { decode: 1, preprocess: 0, infer: 2, rest: 3.5 } },
    // Whole-millisecond readings of a 1.25 ms decode: the median would say 1, the mean says 1.25.
    { name: 'readings that straddle a millisecond', runs: [run(6, 1, 0, 2), run(6, 1, 1, 2), run(8, 2, 0, 3), run(6, 1, 1, 2)], want: { decode: 1.25, preprocess: 0.5, infer: 2.25, rest: 2.5 } },
  ])('$name', ({ runs, want }) => {
    const got = phaseSplit(runs);
    for (const key of ['decode', 'preprocess', 'infer', 'rest'] as const) expect(got[key]).toBeCloseTo(want[key], 10);
  });

  it('refuses an empty list rather than dividing by zero', () => {
    expect(() => phaseSplit([])).toThrow('at least one timed request');
  });
});

describe('runClassifyBench', () => {
  it('measures a real wrangler dev: percentiles in order, one cold start, phases that add up to the mean latency', async () => {
    const lines: string[] = [];
    const result = await runClassifyBench({ requests: 20, warmup: 5, coldStarts: 1, skipBundle: true, json: true, log: (line) => lines.push(line) });
    expect(result.requests).toBe(20);
    expect(result.coldFirstClassifyRunsMs).toHaveLength(1);
    expect(result.coldFirstClassifyMs).toBe(result.coldFirstClassifyRunsMs[0]);
    for (const p of [result.classifyMs, result.healthzMs]) {
      expect(p.p50).toBeGreaterThan(0);
      expect(p.p50).toBeLessThanOrEqual(p.p95);
      expect(p.p95).toBeLessThanOrEqual(p.p99);
    }
    // The Worker's own share is part of what the client waited for.
    expect(result.classifyInWorkerMs).not.toBeNull();
    expect(result.classifyInWorkerMs!.p50).toBeGreaterThan(0);
    expect(result.classifyInWorkerMs!.p50).toBeLessThan(result.classifyMs.p50);
    expect(result.ratio).toBeCloseTo(result.classifyMs.p50 / result.healthzMs.p50, 10);
    // Under 2x p50 for at least half the requests, by definition of the median.
    expect(result.slowClassify.slow).toBeLessThanOrEqual(result.requests / 2);
    expect(result.slowClassify.withSlowNeighbour).toBeLessThanOrEqual(result.slowClassify.slow);
    const { decode, preprocess, infer, rest } = result.phasesMeanMs;
    for (const phase of [decode, preprocess, infer]) expect(phase).toBeGreaterThanOrEqual(0);
    // The model runs in every request, and HTTP plus the dev proxy always take some time.
    expect(decode + preprocess + infer).toBeGreaterThan(0);
    expect(rest).toBeGreaterThan(0);
    expect(result.bundle).toBeNull();
    // The machine's own floor: an idle server answers faster than the Worker's /healthz.
    expect(result.machine.loopbackMs.p50).toBeGreaterThan(0);
    expect(result.machine.loopbackMs.p50).toBeLessThan(result.healthzMs.p50);
    expect([true, false, null]).toContain(result.machine.kernelReclaim);
    const table = formatClassifyBench(result);
    expect(table).toMatch(/\| classify mean: in-Worker decode \/ preprocess \/ infer, and the rest .* \| \d+\.\d\d \/ \d+\.\d\d \/ \d+\.\d\d ms, rest \d+\.\d\d ms \|/);
    expect(table).toContain('| bundle (wrangler deploy --dry-run) | skipped |');
    expect(lines.some((line) => line.includes('fresh start 1/1'))).toBe(true);
  });
});
