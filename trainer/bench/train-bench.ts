import * as tf from '@tensorflow/tfjs-core';
import { activate, availableBackends } from '../backend.ts';
import { architectures } from '../models.ts';

export interface TrainBenchRow {
  arch: string;
  inputSize: number;
  backend: string;
  batch: number;
  trainImagesPerSecond: number;
  inferImagesPerSecond: number;
}

export interface TrainBenchOptions {
  batch: number;
  /** Measured steps per row after warm-up; the slow `cpu` backend gets fewer. */
  steps: number;
  archs?: string[];
  backends?: string[];
  log?: (line: string) => void;
}

async function timeIt(runs: number, fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - start) / runs;
}

/**
 * Steady-state throughput of one architecture on one backend: random inputs (decoding is
 * not what is measured here), two warm-up steps, then the mean of `steps` steps.
 */
async function benchOne(arch: string, backend: string, options: TrainBenchOptions): Promise<TrainBenchRow> {
  await activate(backend);
  const spec = architectures[arch];
  const size = spec.defaultInputSize;
  const model = spec.build({ inputSize: size, classCount: 4, seed: 1 });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([options.batch, size, size, 3]);
  const y = tf.oneHot(tf.randomUniform([options.batch], 0, 4, 'int32') as tf.Tensor1D, 4);
  const steps = backend === 'cpu' ? 1 : options.steps;
  const trainStep = async () => void (await model.trainOnBatch(x, y));
  const inferStep = async () => {
    const p = model.predict(x) as tf.Tensor;
    await p.data();
    p.dispose();
  };
  await timeIt(backend === 'cpu' ? 1 : 2, trainStep);
  const trainMs = await timeIt(steps, trainStep);
  await timeIt(2, inferStep);
  const inferMs = await timeIt(steps * 2, inferStep);
  tf.dispose([x, y]);
  model.dispose();
  return {
    arch, inputSize: size, backend, batch: options.batch,
    trainImagesPerSecond: (options.batch * 1000) / trainMs,
    inferImagesPerSecond: (options.batch * 1000) / inferMs,
  };
}

/** Training and inference throughput of each architecture on each backend that loads. */
export async function runTrainBench(options: TrainBenchOptions): Promise<TrainBenchRow[]> {
  const backends = options.backends ?? (await availableBackends());
  const rows: TrainBenchRow[] = [];
  for (const backend of backends) {
    for (const arch of options.archs ?? Object.keys(architectures)) {
      const row = await benchOne(arch, backend, options);
      options.log?.(`${arch} ${row.inputSize}px on ${backend}: train ${row.trainImagesPerSecond.toFixed(1)} img/s, infer ${row.inferImagesPerSecond.toFixed(1)} img/s`);
      rows.push(row);
    }
  }
  return rows;
}

/** The rows as an aligned text table. */
export function formatTrainBench(rows: TrainBenchRow[]): string {
  const head = ['arch', 'input', 'backend', 'batch', 'train img/s', 'infer img/s'];
  const body = rows.map((r) => [r.arch, `${r.inputSize}x${r.inputSize}`, r.backend, String(r.batch), r.trainImagesPerSecond.toFixed(1), r.inferImagesPerSecond.toFixed(1)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
