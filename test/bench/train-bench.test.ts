import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { debianPython, runTorchBaseline } from '../../bench/train/torch-baseline.ts';
import { runTrainBench } from '../../bench/train/train-bench.ts';

function torchInstalled(): boolean {
  try {
    execFileSync(debianPython, ['-c', 'import torch'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('train bench rows', () => {
  it('warm up for the seconds asked and report that figure beside the steady one', async () => {
    const { rows } = await runTrainBench({ batch: 4, steps: 2, warmupSeconds: 0.3, archs: ['tutorial'], backends: ['wasm'], workers: [1] });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ arch: 'tutorial', backend: 'wasm', workers: 1, batch: 4 });
    expect(rows[0].warmupImagesPerSecond).toBeGreaterThan(0);
    expect(rows[0].trainImagesPerSecond).toBeGreaterThan(0);
    // No warm-up asked: the row says nothing about one rather than a made-up figure.
    const { rows: cold } = await runTrainBench({ batch: 4, steps: 1, warmupSeconds: 0, archs: ['tutorial'], backends: ['wasm'], workers: [1] });
    expect(cold[0].warmupImagesPerSecond).toBeUndefined();
  });

  it("PyTorch's rows warm up the same way, or the bench says how to install it", async () => {
    const result = await runTorchBaseline({ archs: [{ arch: 'compact', inputSize: 16 }], batch: 4, steps: 1, warmupSeconds: 0.3, threads: [1] });
    if (!torchInstalled()) {
      expect(result).toEqual({ skipped: expect.stringContaining('apt-get install python3-torch') });
      return;
    }
    if (!('rows' in result)) throw new Error(`PyTorch is installed but its bench was skipped: ${result.skipped}`);
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0]).toMatchObject({ arch: 'compact', inputSize: 16, batch: 4, threads: 1 });
    expect(result.rows[0].warmupImagesPerSecond).toBeGreaterThan(0);
  }, 60_000);
});
