import * as tf from '@tensorflow/tfjs-core';
import { sumOverReplicas } from './replica-sum.ts';
import { heapF64, ptr, scratchF32, simd, withScratch } from '../simd.ts';
import { heapF32, makeF32, type BackendWasm } from '../wasm-ops.ts';

/**
 * What the batch-norm kernels (batch-norm.ts, batch-norm-pool.ts) share: the per-channel batch
 * statistics of the forward pass and the coefficients of the backward pass, each summed over
 * data-parallel replicas (replica-sum.ts) in one exchange per layer and pass.
 */
export type Info = tf.TensorInfo;

export interface BatchNormAttrs {
  epsilon: number;
  /** Apply ReLU to the output (forward only; the backward pass is told by its `gate` input). */
  relu?: boolean;
}

/** A kernel config for the wasm backend around one of these kernels' functions. */
export function wasmKernel(kernelName: string, kernelFunc: (args: never) => Info | Info[]): tf.KernelConfig {
  return { kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelConfig['kernelFunc'] };
}

export function shapeOf(x: Info): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1];
  return { rows: x.shape.reduce((a, b) => a * b, 1) / cols, cols };
}

/**
 * Per-channel sums of simd's channel_sums in float64, 2 x channels of them, with the row count the
 * statistics stand for appended (`rows`, default x's): [sum x, sum x^2, rows] or, given dy and the
 * mean, [sum dy, sum dy (x - mean), rows] (dy taken where gate > 0 only, given a gate).
 */
export function channelSums(backend: BackendWasm, x: Info, grad?: { dy: Info; mean: Info; gate?: Info }, rows = shapeOf(x).rows): Float64Array {
  const { rows: local, cols } = shapeOf(x);
  const gate = grad?.gate ? ptr(backend, grad.gate) : 0;
  return withScratch(backend, cols * 24 + 8, (at) => {
    const total = at, part = at + cols * 16;
    simd(backend).channel_sums(ptr(backend, x), grad ? ptr(backend, grad.dy) : 0, local, cols, grad ? ptr(backend, grad.mean) : 0, grad ? 2 : 0, part, total, gate);
    const sums = new Float64Array(2 * cols + 1);
    sums.set(heapF64(backend, total, 2 * cols));
    sums[2 * cols] = rows;
    return sums;
  });
}

/** Runs `fn` with float32 per-channel vectors copied into heap scratch: their byte offsets. */
export function withVectors<T>(backend: BackendWasm, vectors: Float32Array[], fn: (at: number[]) => T): T {
  const n = vectors[0].length;
  return withScratch(backend, vectors.length * n * 4, (at) => {
    const offsets = vectors.map((_, i) => at + i * n * 4);
    vectors.forEach((v, i) => scratchF32(backend, offsets[i], n).set(v));
    return fn(offsets);
  });
}

/**
 * The batch's mean and (biased) variance per channel of x, over all replicas, as tensors, and the
 * scale gamma / sqrt(variance + epsilon) that normalises with them.
 */
export function batchStatistics(backend: BackendWasm, x: Info, gamma: Info, epsilon: number): { mean: Info; variance: Info; scale: Float32Array } {
  const { cols } = shapeOf(x);
  const mean = makeF32(backend, [cols]);
  const variance = makeF32(backend, [cols]);
  // One exchange between replicas per layer and pass: the variance comes from the same sums.
  const sums = sumOverReplicas(channelSums(backend, x));
  const n = sums[2 * cols];
  const meanValues = sums.subarray(0, cols).map((s) => s / n);
  heapF32(backend, mean).set(meanValues);
  heapF32(backend, variance).set(sums.subarray(cols, 2 * cols).map((s, c) => Math.max(0, s / n - meanValues[c] * meanValues[c])));
  const v = heapF32(backend, variance), g = heapF32(backend, gamma);
  return { mean, variance, scale: new Float32Array(cols).map((_, c) => g[c] / Math.sqrt(v[c] + epsilon)) };
}

/**
 * From this replica's backward sums ([sum dy, sum dy (x - mean), rows] of channelSums), with
 * k = gamma / sigma and N values per channel over the whole (all-replica) batch:
 * dx = a * dy + b * (x - mean) + d, a = k, b = -k / sigma^2 * sum(dy * (x - mean)) / N,
 * d = -k * sum(dy) / N. dgamma and dbeta are this replica's share; the optimizer step adds the
 * replicas' shares.
 */
export function backwardCoefficients(backend: BackendWasm, local: Float64Array, gamma: Info, variance: Info, epsilon: number) {
  const cols = (local.length - 1) / 2;
  const dgamma = makeF32(backend, [cols]);
  const dbeta = makeF32(backend, [cols]);
  const v = heapF32(backend, variance), g = heapF32(backend, gamma);
  const invStd = Array.from(v, (vc) => 1 / Math.sqrt(vc + epsilon));
  heapF32(backend, dbeta).set(local.subarray(0, cols));
  heapF32(backend, dgamma).set(local.subarray(cols, 2 * cols).map((s, c) => s * invStd[c]));
  const total = sumOverReplicas(local.slice());
  const n = total[2 * cols];
  const a = new Float32Array(cols), b = new Float32Array(cols), d = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    const k = g[c] * invStd[c];
    a[c] = k;
    b[c] = (-k * invStd[c] * invStd[c] * total[cols + c]) / n;
    d[c] = (-k * total[c]) / n;
  }
  return { dgamma, dbeta, a, b, d };
}

/**
 * A training op on a forward / backward kernel pair of these (tf.customGrad): the forward kernel
 * maps x, gamma, beta to [y, mean, variance, ...more], the backward one gets dy, x, gamma and the
 * forward outputs `saved` names (name: index into those outputs), and returns [dx, dgamma, dbeta].
 * The batch statistics come back too, for the moving averages; the caller disposes them.
 */
export function batchNormOp(forward: string, backward: string, attrs: BatchNormAttrs, saved: Record<string, number>) {
  const names = Object.keys(saved);
  return (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } => {
    let stats: tf.Tensor[] = [];
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xi, gi, bi] = args as tf.Tensor[];
      const save = args[3] as tf.GradSaveFunc;
      const outputs = tf.engine().runKernel(forward, { x: xi, gamma: gi, beta: bi }, attrs as never) as tf.Tensor[];
      save([xi, gi, ...names.map((name) => outputs[saved[name]])]);
      // customGrad runs this in a tidy that keeps only `value`: the statistics leave through a keep.
      stats = [tf.keep(outputs[1]), tf.keep(outputs[2])];
      return {
        value: outputs[0],
        gradFunc: (dy: tf.Tensor | tf.Tensor[], kept: tf.Tensor[]) => {
          const [sx, sg, ...rest] = kept;
          const inputs = { dy: dy as tf.Tensor, x: sx, gamma: sg, ...Object.fromEntries(names.map((name, i) => [name, rest[i]])) };
          return tf.engine().runKernel(backward, inputs, attrs as never) as tf.Tensor[];
        },
      };
    });
    const y = op(x, gamma, beta);
    return { y, mean: stats[0], variance: stats[1] };
  };
}
