/**
 * Where a training step's time goes on the wasm backend: ms per batch for each kernel (tf.profile)
 * and steady-state images/s, with and without the replacement kernels.
 *   npx tsx trainer/kernels/profile.ts [--arch tutorial,compact] [--batch 32] [--steps 5] [--size 64] [--baseline]
 * --baseline also measures with only the missing kernels registered (wasm's own slow kernels kept).
 * --detail Sum,Mean lists every call of those kernels with its input shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { parseArgs } from 'node:util';
import { architectures } from '../models.ts';
import { registerWasmTrainingKernels, restoreWasmKernels } from './index.ts';

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: 'tutorial,compact' },
    batch: { type: 'string', default: '32' },
    steps: { type: 'string', default: '5' },
    size: { type: 'string', default: '64' },
    baseline: { type: 'boolean', default: false },
    detail: { type: 'string', default: '' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const size = Number(values.size);
for (const [name, v] of [['batch', batch], ['steps', steps], ['size', size]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
}
const archs = values.arch.split(',');
for (const a of archs) if (!architectures[a]) throw new Error(`unknown --arch '${a}': use ${Object.keys(architectures).join(', ')}`);

await tf.setBackend('wasm');
await tf.ready();

async function measure(arch: string, label: string): Promise<void> {
  const model = architectures[arch].build({ inputSize: size, classCount: 4, seed: 1 });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([batch, size, size, 3]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 4, 'int32') as tf.Tensor1D, 4);
  const step = async () => void (await model.trainOnBatch(x, y));
  for (let i = 0; i < 2; i++) await step();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const ms = (performance.now() - start) / steps;
  const profile = await tf.profile(step);
  const perKernel = new Map<string, number>();
  for (const k of profile.kernels) perKernel.set(k.name, (perKernel.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  const total = [...perKernel.values()].reduce((a, b) => a + b, 0);
  console.log(`\n${arch} ${size}x${size} batch ${batch} [${label}]: ${ms.toFixed(1)} ms/batch, ${((batch * 1000) / ms).toFixed(1)} images/s (kernels ${total.toFixed(1)} ms)`);
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
  for (const arch of archs) await measure(arch, 'missing kernels only');
}
registerWasmTrainingKernels();
for (const arch of archs) await measure(arch, 'all project kernels');
