import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '../../../trainer/training/cpu-backend.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kernelsOn, winogradFusedConv2D, winogradTransformBytes, type SimdKernels } from '../../../shared/index.ts';

// The Worker's build (plain SIMD): the one every wasm runtime with SIMD compiles.
const kernelsModule = new WebAssembly.Module(readFileSync(new URL('../../../shared/kernels/kernels.wasm', import.meta.url)));

let original: tf.KernelConfig;
let originalCalls = 0;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  original = tf.getKernel(tf.FusedConv2D, 'wasm')!;
  const counting = { ...original, kernelFunc: ((args: never) => (originalCalls++, original.kernelFunc(args))) as tf.KernelConfig['kernelFunc'] };
  tf.unregisterKernel(tf.FusedConv2D, 'wasm');
  tf.registerKernel(winogradFusedConv2D((backend) => kernelsOn(backend, kernelsModule), counting));
});

afterAll(() => {
  tf.unregisterKernel(tf.FusedConv2D, 'wasm');
  tf.registerKernel(original);
});

function random(shape: number[], seed: number): Float32Array {
  return tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', seed).dataSync() as Float32Array);
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides?: number;
  pad: 'same' | 'valid';
  bias: boolean;
  activation: 'linear' | 'relu' | 'elu';
  /** Which kernel should take it. */
  runs: 'winograd' | 'xnnpack';
}

const cases: Case[] = [
  { name: 'a folded middle layer (bias + ReLU, same)', x: [1, 32, 32, 24], filter: [3, 3, 24, 32], pad: 'same', bias: true, activation: 'relu', runs: 'winograd' },
  { name: 'batch of 2, odd size, valid padding', x: [2, 15, 13, 16], filter: [3, 3, 16, 8], pad: 'valid', bias: true, activation: 'relu', runs: 'winograd' },
  { name: 'no bias, no activation', x: [1, 8, 8, 64], filter: [3, 3, 64, 96], pad: 'same', bias: false, activation: 'linear', runs: 'winograd' },
  { name: 'ReLU without bias', x: [1, 9, 9, 8], filter: [3, 3, 8, 16], pad: 'same', bias: false, activation: 'relu', runs: 'winograd' },
  { name: 'an RGB input layer (3 channels)', x: [1, 16, 16, 3], filter: [3, 3, 3, 24], pad: 'same', bias: true, activation: 'relu', runs: 'xnnpack' },
  { name: 'stride 2', x: [1, 16, 16, 16], filter: [3, 3, 16, 16], strides: 2, pad: 'same', bias: true, activation: 'relu', runs: 'xnnpack' },
  { name: 'a 5x5 filter', x: [1, 12, 12, 16], filter: [5, 5, 16, 16], pad: 'same', bias: true, activation: 'relu', runs: 'xnnpack' },
  { name: 'output channels not a multiple of 8', x: [1, 12, 12, 16], filter: [3, 3, 16, 12], pad: 'same', bias: true, activation: 'relu', runs: 'xnnpack' },
  { name: 'an activation the kernels lack (elu)', x: [1, 12, 12, 16], filter: [3, 3, 16, 16], pad: 'same', bias: true, activation: 'elu', runs: 'xnnpack' },
];

describe('winogradFusedConv2D', () => {
  it.each(cases)('$name: matches cpu, on $runs', ({ x, filter, strides = 1, pad, bias, activation, runs }) => {
    const xs = random(x, 1), fs = random(filter, 2), bs = random([filter[3]], 3);
    const conv = () =>
      tf.tidy(() =>
        tf.fused.conv2d({
          x: tf.tensor4d(xs, x), filter: tf.tensor4d(fs, filter), strides, pad, activation,
          bias: bias ? tf.tensor1d(bs) : undefined,
        }).dataSync() as Float32Array);
    tf.setBackend('cpu');
    const expected = conv();
    tf.setBackend('wasm');
    const before = originalCalls;
    const actual = conv();
    expect(originalCalls - before).toBe(runs === 'xnnpack' ? 1 : 0);
    expect(actual.length).toBe(expected.length);
    let scale = 1, worst = 0;
    for (const v of expected) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
    expect(worst).toBeLessThan(1e-4);
  });

  it('leaves no tensor behind and keeps the heap bounded over repeated calls', () => {
    const x = tf.randomNormal([1, 16, 16, 16]) as tf.Tensor4D, filter = tf.randomNormal([3, 3, 16, 16]) as tf.Tensor4D, bias = tf.zeros([16]) as tf.Tensor1D;
    const run = () => tf.tidy(() => tf.fused.conv2d({ x, filter, bias, activation: 'relu', strides: 1, pad: 'same' })).dispose();
    run();
    const tensors = tf.memory().numTensors, bytes = tf.memory().numBytes;
    for (let i = 0; i < 50; i++) run();
    expect(tf.memory()).toMatchObject({ numTensors: tensors, numBytes: bytes });
    tf.dispose([x, filter, bias]);
  });
});

describe('winogradFusedConv2D with constantFilters (the Worker)', () => {
  it('transforms a filter once, answers as without the cache, and frees the transform once the filter is gone', () => {
    tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const kernels = kernelsOn(backend, kernelsModule);
    let transforms = 0;
    const counted: SimdKernels = { ...kernels, winograd_filter: (...args) => (transforms++, kernels.winograd_filter(...args)) };
    const cached = winogradFusedConv2D(() => counted, original, { constantFilters: true });
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1, activation: 'relu' } as const;
    const x = tf.tensor4d(random([1, 16, 16, 16], 4), [1, 16, 16, 16]), bias = tf.tensor1d(random([24], 5));
    const run = (filter: tf.Tensor4D) => {
      const y = cached.kernelFunc({ inputs: { x, filter, bias }, backend, attrs: attrs as never }) as tf.TensorInfo;
      const values = backend.readSync(y.dataId) as Float32Array;
      backend.disposeData(y.dataId);
      return values;
    };
    const uncached = (filter: tf.Tensor4D) => tf.tidy(() => tf.fused.conv2d({ x, filter, bias, ...attrs }).dataSync() as Float32Array);
    const first = tf.tensor4d(random([3, 3, 16, 24], 6), [3, 3, 16, 24]);
    const base = backend.numDataIds();
    expect(run(first)).toEqual(uncached(first));
    expect(run(first)).toEqual(uncached(first));
    expect(transforms).toBe(1);
    expect(backend.numDataIds()).toBe(base + 1);
    const second = tf.tensor4d(random([3, 3, 16, 24], 7), [3, 3, 16, 24]);
    first.dispose();
    expect(run(second)).toEqual(uncached(second));
    expect(transforms).toBe(2);
    // The first filter's transform went with it; the second's is kept.
    expect(backend.numDataIds()).toBe(base + 1);
    tf.dispose([x, bias, second]);
  });
});

describe('winogradTransformBytes', () => {
  it.each([
    // 36 planes of ci x co floats, each followed by 16 floats of skew.
    [[3, 3, 24, 32], [1, 1], 4 * 36 * (24 * 32 + 16)],
    [[3, 3, 8, 8], [1, 1], 4 * 36 * (8 * 8 + 16)],
    [[3, 3, 3, 24], [1, 1], 0],
    [[3, 3, 12, 16], [1, 1], 4 * 36 * (12 * 16 + 16)],
    [[3, 3, 10, 16], [1, 1], 0],
    [[3, 3, 16, 12], [1, 1], 0],
    [[3, 3, 16, 16], [2, 2], 0],
    [[5, 5, 16, 16], [1, 1], 0],
  ] as [number[], [number, number], number][])('filter %j strides %j: %i bytes', (shape, strides, bytes) => {
    expect(winogradTransformBytes(shape, strides)).toBe(bytes);
  });
});
