import * as tf from '@tensorflow/tfjs-core';
import '../../../trainer/training/cpu-backend.ts';
import '@tensorflow/tfjs-backend-wasm';
import { expect } from 'vitest';

/** What the kernel tests compare: wasm (with the project's kernels) against tfjs' cpu backend. */
export type Arrays = Float32Array[];

/** Random data made once on cpu, so both backends see identical inputs. */
export function random(shape: number[], seed: number): Float32Array {
  tf.setBackend('cpu');
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
}

/** Runs `f` on cpu and on wasm (with our kernels) and returns both results' values. */
export function onBoth(f: () => tf.Tensor[]): { cpu: Arrays; wasm: Arrays } {
  const read = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(f).map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
  };
  const cpu = read('cpu');
  const wasm = read('wasm');
  return { cpu, wasm };
}

/** Largest |wasm - cpu| over all outputs, relative to the largest |cpu| value (at least 1). */
export function relativeError({ cpu, wasm }: { cpu: Arrays; wasm: Arrays }): number {
  expect(wasm.map((a) => a.length)).toEqual(cpu.map((a) => a.length));
  let worst = 0;
  cpu.forEach((expected, k) => {
    let scale = 1;
    for (const v of expected) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(wasm[k][i] - expected[i]) / scale);
  });
  return worst;
}

export const TOLERANCE = 1e-4;

/** Kernel names of one training step (minimize with SGD) of `model` on wasm, as tf.profile lists them. */
export async function trainingKernelNames(model: { apply: (x: tf.Tensor, kwargs: { training: boolean }) => unknown }, x: tf.Tensor, y: tf.Tensor): Promise<string[]> {
  tf.setBackend('wasm');
  const optimizer = tf.train.sgd(0.1);
  const loss = () => tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(tf.add(model.apply(x, { training: true }) as tf.Tensor, 1e-7))), -1))) as tf.Scalar;
  const { kernels } = await tf.profile(() => optimizer.minimize(loss, true)!);
  optimizer.dispose();
  return kernels.map((k) => k.name);
}
