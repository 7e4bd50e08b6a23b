/**
 * Where a training step's time goes on the wasm backend: ms per batch for each kernel (tf.profile)
 * and steady-state images/s, with and without the replacement kernels.
 *   npx tsx bench/train/kernel-profile.ts [--arch tutorial,compact] [--batch 32] [--steps 5] [--size 64] [--baseline]
 * --baseline also measures with only the missing kernels registered (wasm's own slow kernels, tfjs'
 * batch norm and Adam kept).
 * --detail Sum,Mean lists every call of those kernels with its input shapes.
 * --workers 2 also times the data-parallel step with that many replicas (trainer/parallel/) and
 * splits the main thread's time into its phases.
 * CPU ms (process.cpuUsage, all threads) sit next to wall ms: on a shared machine the wall clock
 * measures the other work as much as this.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { parseArgs } from 'node:util';
import { architectures } from '../../trainer/training/architectures.ts';
import { createStepRunner } from '../../trainer/parallel/step-runner.ts';
import { smoothedCrossEntropy } from '../../trainer/parallel/shard-step.ts';
import { fastAdam, prepareModelForTraining, registerWasmTrainingKernels, restoreWasmKernels } from '../../trainer/kernels/index.ts';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'tutorial,compact' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    size: { type: 'string', default: '64' },
    baseline: { type: 'boolean', default: false },
    detail: { type: 'string', default: '' },
    workers: { type: 'string', default: '1' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const size = Number(values.size);
const workers = Number(values.workers);
for (const [name, v] of [['batch', batch], ['steps', steps], ['size', size], ['workers', workers]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
}
const archs = values.arch.split(',');
for (const a of archs) if (!architectures[a]) throw new Error(`unknown --arch '${a}': use ${Object.keys(architectures).join(', ')}`);

await tf.setBackend('wasm');
await tf.ready();

async function measure(arch: string, label: string, fused: boolean): Promise<void> {
  const model = architectures[arch].build({ inputSize: size, classCount: 4, seed: 1 });
  if (fused) prepareModelForTraining(model);
  model.compile({ optimizer: fused ? fastAdam(0.001) : tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([batch, size, size, 3]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 4, 'int32') as tf.Tensor1D, 4);
  const step = async () => void (await model.trainOnBatch(x, y));
  for (let i = 0; i < 2; i++) await step();
  const start = performance.now(), cpuStart = process.cpuUsage();
  for (let i = 0; i < steps; i++) await step();
  const ms = (performance.now() - start) / steps;
  const cpu = process.cpuUsage(cpuStart);
  const profile = await tf.profile(step);
  const perKernel = new Map<string, number>();
  for (const k of profile.kernels) perKernel.set(k.name, (perKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...perKernel.values()].reduce((a, b) => a + b, 0);
  console.log(`\n${arch} ${size}x${size} batch ${batch} [${label}]: ${ms.toFixed(1)} ms/batch (cpu ${((cpu.user + cpu.system) / 1000 / steps).toFixed(1)}), ${((batch * 1000) / ms).toFixed(1)} images/s (kernels ${total.toFixed(1)} ms)`);
  for (const [k, t] of [...perKernel].sort((p, q) => q[1] - p[1]).filter(([, t]) => t >= 0.5)) {
    console.log(`  ${k.padEnd(24)} ${t.toFixed(1).padStart(7)} ms`);
  }
  const detail = new Set(values.detail.split(',').filter(Boolean));
  for (const k of profile.kernels.filter((k) => detail.has(k.name))) {
    console.log(`    ${k.name} ${(k.kernelTimeMs as number).toFixed(2)} ms  in ${k.inputShapes.map((s) => `[${s}]`).join(' ')} out ${k.outputShapes.map((s) => `[${s}]`).join(' ')}`);
  }
  tf.dispose([x, y]);
  model.dispose();
}

if (values.baseline) {
  registerWasmTrainingKernels({ replace: false });
  restoreWasmKernels();
  for (const arch of archs) await measure(arch, 'missing kernels only', false);
}
/** The data-parallel step: wall and CPU ms per batch, and where the main thread's time goes. */
async function measureParallel(arch: string): Promise<void> {
  const model = architectures[arch].build({ inputSize: size, classCount: 4, seed: 1 });
  prepareModelForTraining(model);
  const optimizer = fastAdam(0.001), loss = smoothedCrossEntropy(0);
  model.compile({ optimizer, loss });
  const runner = await createStepRunner(model, { workers, loss, labelSmoothing: 0, optimizer, maxBatch: batch });
  const x = tf.randomUniform([batch, size, size, 3]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 4, 'int32') as tf.Tensor1D, 4);
  for (let i = 0; i < 2; i++) await runner.step(x, y);
  const before = { ...runner.phases! };
  const start = performance.now(), cpuStart = process.cpuUsage();
  for (let i = 0; i < steps; i++) await runner.step(x, y);
  const ms = (performance.now() - start) / steps;
  const cpu = process.cpuUsage(cpuStart);
  const phases = Object.entries(runner.phases!).map(([k, v]) => `${k} ${((v - before[k as keyof typeof before]) / steps).toFixed(1)}`).join(', ');
  console.log(`\n${arch} ${size}x${size} batch ${batch} [${workers} replicas]: ${ms.toFixed(1)} ms/batch (cpu ${((cpu.user + cpu.system) / 1000 / steps).toFixed(1)}, all threads), ${((batch * 1000) / ms).toFixed(1)} images/s`);
  console.log(`  main thread ms/batch: ${phases}`);
  await runner.close();
  tf.dispose([x, y]);
  model.dispose();
}

registerWasmTrainingKernels();
for (const arch of archs) await measure(arch, 'all project kernels', true);
if (workers > 1) for (const arch of archs) await measureParallel(arch);
