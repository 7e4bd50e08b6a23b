import * as tf from '@tensorflow/tfjs-core';
import type { WasmKernelBuild } from '../../shared/index.ts';
import { activate, availableBackends, loadNodeBackend } from '../../trainer/training/backend.ts';
import { fastAdam, prepareModelForTraining } from '../../trainer/kernels/index.ts';
import { servingForward } from '../../trainer/training/forward.ts';
import { architectures } from '../../trainer/training/architectures.ts';
import { defaultWorkers } from '../../trainer/parallel/data-parallel.ts';
import { createStepRunner } from '../../trainer/parallel/step-runner.ts';
import { smoothedCrossEntropy } from '../../trainer/parallel/shard-step.ts';

export interface TrainBenchRow {
  arch: string;
  inputSize: number;
  backend: string;
  /** On wasm, the build of the project's helper kernels (kernels/simd.ts): with fused multiply-add or not. */
  kernels?: WasmKernelBuild;
  batch: number;
  /** Training replicas (threads); 1 for tfjs-node and cpu, which do not use them. */
  workers: number;
  trainImagesPerSecond: number;
  /**
   * Training images/s over the warm-up (TrainBenchOptions.warmupSeconds, after two untimed steps):
   * what the first seconds of a run get, before tfjs' JIT and the replicas' threads settle.
   */
  warmupImagesPerSecond?: number;
  inferImagesPerSecond: number;
  /**
   * Training images per CPU-second, all threads: what the work costs, whatever else the machine
   * runs (the wall-clock figures above measure the other work as much as this).
   */
  trainImagesPerCpuSecond: number;
  /** Training figure of every round measured, when the suite ran several. */
  samples?: number[];
}

export interface SkippedBackend {
  backend: string;
  reason: string;
}

export interface TrainBenchOptions {
  batch: number;
  /** Measured steps per row after warm-up. */
  steps: number;
  /**
   * Seconds of training steps before the measured ones. With two replicas a step takes ~1.4x its
   * steady time at first, falling over the first ~40 steps (~2.5 s) while V8 compiles and collects
   * on the same two cores (one replica shows no such slope): without it the figure is the ramp's.
   */
  warmupSeconds: number;
  archs?: string[];
  /** Backends to measure; default every one that loads, except cpu (see cpuSkipReason). */
  backends?: string[];
  /** Replica counts to measure on wasm; default [the training default, 1]. */
  workers?: number[];
  log?: (line: string) => void;
}

const cpuSkipReason = 'pure-JavaScript cpu backend trains at ~0.5 images/s (a batch of 32 takes a minute); run it with --backends cpu --steps 1';

/** Two untimed runs, then runs until `seconds` have passed: ms per run over those, or undefined. */
async function warmUp(seconds: number, fn: () => Promise<void>): Promise<number | undefined> {
  for (let i = 0; i < 2; i++) await fn();
  const start = performance.now();
  let runs = 0;
  while (performance.now() - start < seconds * 1000) {
    await fn();
    runs++;
  }
  return runs ? (performance.now() - start) / runs : undefined;
}

async function timeIt(runs: number, fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - start) / runs;
}

/**
 * Steady-state throughput of one architecture on one backend as `npm run train` runs it (its loss,
 * optimizer, batch norm and replicas): random inputs (decoding is not what is measured here), a
 * warm-up (warmupSeconds), then the mean of `steps` steps. Inference: the served forward pass (servingForward) on the same batch.
 */
async function benchOne(arch: string, backend: string, workers: number, options: TrainBenchOptions): Promise<TrainBenchRow> {
  const kernels = await activate(backend);
  const spec = architectures[arch];
  const size = spec.defaultInputSize;
  const model = spec.build({ inputSize: size, classCount: 4, seed: 1 });
  prepareModelForTraining(model);
  const optimizer = fastAdam(0.001);
  const loss = smoothedCrossEntropy(0);
  model.compile({ optimizer, loss, metrics: ['accuracy'] });
  const runner = await createStepRunner(model, { workers, loss, labelSmoothing: 0, optimizer, maxBatch: options.batch });
  const x = tf.randomUniform([options.batch, size, size, 3]);
  const y = tf.oneHot(tf.randomUniform([options.batch], 0, 4, 'int32') as tf.Tensor1D, 4);
  const steps = backend === 'cpu' ? 1 : options.steps;
  try {
    const trainStep = async () => void (await runner.step(x, y));
    const warmupMs = backend === 'cpu' ? void (await trainStep()) : await warmUp(options.warmupSeconds, trainStep);
    const cpuStart = process.cpuUsage();
    const trainMs = await timeIt(steps, trainStep);
    const cpu = process.cpuUsage(cpuStart);
    // Inference as validation, evaluation and the Worker run it: the folded forward pass.
    const forward = servingForward(model);
    const inferStep = async () => {
      const p = forward.predict(x);
      await p.data();
      p.dispose();
    };
    let inferMs: number;
    try {
      await timeIt(2, inferStep);
      inferMs = await timeIt(steps * 2, inferStep);
    } finally {
      forward.dispose();
    }
    return {
      arch, inputSize: size, backend, ...(kernels ? { kernels } : {}), batch: options.batch, workers: runner.workers,
      trainImagesPerSecond: (options.batch * 1000) / trainMs,
      ...(warmupMs ? { warmupImagesPerSecond: (options.batch * 1000) / warmupMs } : {}),
      inferImagesPerSecond: (options.batch * 1000) / inferMs,
      trainImagesPerCpuSecond: (options.batch * steps * 1e6) / (cpu.user + cpu.system),
    };
  } finally {
    await runner.close();
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
  }
}

/** Training and inference throughput of each architecture on each backend that loads. */
export async function runTrainBench(options: TrainBenchOptions): Promise<{ rows: TrainBenchRow[]; skipped: SkippedBackend[] }> {
  const loadable = await availableBackends();
  const wanted = options.backends ?? loadable.filter((b) => b !== 'cpu');
  const skipped: SkippedBackend[] = [];
  if (!options.backends && loadable.includes('cpu')) skipped.push({ backend: 'cpu', reason: cpuSkipReason });
  if (!loadable.includes('tensorflow')) skipped.push({ backend: 'tensorflow', reason: `@tensorflow/tfjs-node: ${await loadNodeBackend()}` });
  const rows: TrainBenchRow[] = [];
  for (const backend of wanted) {
    if (!loadable.includes(backend)) {
      skipped.push({ backend, reason: 'does not load here' });
      continue;
    }
    const counts = backend === 'wasm' ? [...new Set(options.workers ?? [defaultWorkers('wasm'), 1])] : [1];
    for (const arch of options.archs ?? Object.keys(architectures)) {
      for (const workers of counts) {
        const row = await benchOne(arch, backend, workers, options);
        options.log?.(`${arch} ${row.inputSize}px on ${backend} x${row.workers}: train ${row.trainImagesPerSecond.toFixed(1)} img/s, infer ${row.inferImagesPerSecond.toFixed(1)} img/s`);
        rows.push(row);
      }
    }
  }
  return { rows, skipped };
}
