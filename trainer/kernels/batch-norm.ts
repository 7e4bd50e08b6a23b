import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { patchTrainingCall } from './layer-patch.ts';
import { sumOverReplicas } from './replica-sum.ts';
import { heapF64, ptr, scratchF32, simd, withScratch } from './simd.ts';
import { heapF32, makeF32, type BackendWasm } from './wasm-ops.ts';

/**
 * Project kernels: batch normalisation in training mode over every axis but the last, forward
 * ([y, mean, variance] from x, gamma, beta) and backward ([dx, dgamma, dbeta]). tfjs composes both
 * of ~20 elementwise kernels over the full activation; these make two passes each. The batch
 * statistics are summed over data-parallel replicas (replica-sum.ts), which makes N replicas of
 * B/N images compute exactly what one replica of B computes (synchronised batch norm).
 * With `relu`, the forward pass also applies the ReLU that follows it and the backward pass takes
 * ReLU's gradient on the way (its output, `gate`, says where): two passes over the activation fewer.
 */
export const BatchNormTrain = 'CellsenseBatchNormTrain';
export const BatchNormTrainGrad = 'CellsenseBatchNormTrainGrad';

type Info = tf.TensorInfo;

function shapeOf(x: Info): { rows: number; cols: number } {
  const cols = x.shape[x.shape.length - 1];
  return { rows: x.shape.reduce((a, b) => a * b, 1) / cols, cols };
}

/**
 * Per-channel sums of simd's channel_sums in float64, 2 x channels of them, with the local row
 * count appended: [sum x, sum x^2, rows] or, given dy and the mean, [sum dy, sum dy (x - mean), rows]
 * (dy taken where gate > 0 only, given a gate).
 */
function channelSums(backend: BackendWasm, x: Info, grad?: { dy: Info; mean: Info; gate?: Info }): Float64Array {
  const { rows, cols } = shapeOf(x);
  const gate = grad?.gate ? ptr(backend, grad.gate) : 0;
  return withScratch(backend, cols * 24 + 8, (at) => {
    const total = at, part = at + cols * 16;
    simd(backend).channel_sums(ptr(backend, x), grad ? ptr(backend, grad.dy) : 0, rows, cols, grad ? ptr(backend, grad.mean) : 0, grad ? 2 : 0, part, total, gate);
    const sums = new Float64Array(2 * cols + 1);
    sums.set(heapF64(backend, total, 2 * cols));
    sums[2 * cols] = rows;
    return sums;
  });
}

/** Runs `fn` with float32 per-channel vectors copied into heap scratch: their byte offsets. */
function withVectors<T>(backend: BackendWasm, vectors: Float32Array[], fn: (at: number[]) => T): T {
  const n = vectors[0].length;
  return withScratch(backend, vectors.length * n * 4, (at) => {
    const offsets = vectors.map((_, i) => at + i * n * 4);
    vectors.forEach((v, i) => scratchF32(backend, offsets[i], n).set(v));
    return fn(offsets);
  });
}

interface BatchNormAttrs {
  epsilon: number;
  /** Apply ReLU to the output (forward only; the backward pass is told by its `gate` input). */
  relu?: boolean;
}

function batchNormTrain(args: { inputs: { x: Info; gamma: Info; beta: Info }; backend: BackendWasm; attrs: BatchNormAttrs }): Info[] {
  const { inputs: { x, gamma, beta }, backend, attrs: { epsilon, relu } } = args;
  const { rows, cols } = shapeOf(x);
  const y = makeF32(backend, x.shape);
  const mean = makeF32(backend, [cols]);
  const variance = makeF32(backend, [cols]);
  // One exchange between replicas per layer and pass: the variance comes from the same sums.
  const sums = sumOverReplicas(channelSums(backend, x));
  const n = sums[2 * cols];
  const meanValues = sums.subarray(0, cols).map((s) => s / n);
  heapF32(backend, mean).set(meanValues);
  heapF32(backend, variance).set(sums.subarray(cols, 2 * cols).map((s, c) => Math.max(0, s / n - meanValues[c] * meanValues[c])));
  const v = heapF32(backend, variance), g = heapF32(backend, gamma);
  const scale = new Float32Array(cols).map((_, c) => g[c] / Math.sqrt(v[c] + epsilon));
  withVectors(backend, [scale], ([scaleAt]) => {
    simd(backend).bn_forward(ptr(backend, x), ptr(backend, y), rows, cols, ptr(backend, mean), scaleAt, ptr(backend, beta), relu ? 1 : 0);
  });
  return [y, mean, variance];
}

/**
 * With k = gamma / sigma and sums over the whole (all-replica) batch of N values per channel:
 * dx = k * dy - k * sum(dy) / N - k / sigma^2 * (x - mean) * sum(dy * (x - mean)) / N.
 * dgamma and dbeta are this replica's share; the optimizer step adds the replicas' shares. With a
 * `gate` (the forward output of a batch norm fused with ReLU), dy counts only where gate > 0.
 */
function batchNormTrainGrad(args: {
  inputs: Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance', Info> & { gate?: Info };
  backend: BackendWasm;
  attrs: BatchNormAttrs;
}): Info[] {
  const { inputs: { dy, x, gamma, mean, variance, gate }, backend, attrs: { epsilon } } = args;
  const { rows, cols } = shapeOf(x);
  const dx = makeF32(backend, x.shape);
  const dgamma = makeF32(backend, [cols]);
  const dbeta = makeF32(backend, [cols]);
  const local = channelSums(backend, x, { dy, mean, gate });
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
  withVectors(backend, [a, b, d], ([aAt, bAt, dAt]) => {
    simd(backend).bn_backward(ptr(backend, dy), ptr(backend, x), ptr(backend, dx), rows, cols, ptr(backend, mean), aAt, bAt, dAt, gate ? ptr(backend, gate) : 0);
  });
  return [dx, dgamma, dbeta];
}

export const batchNormTrainConfig: tf.KernelConfig = {
  kernelName: BatchNormTrain,
  backendName: 'wasm',
  kernelFunc: batchNormTrain as unknown as tf.KernelConfig['kernelFunc'],
};

export const batchNormTrainGradConfig: tf.KernelConfig = {
  kernelName: BatchNormTrainGrad,
  backendName: 'wasm',
  kernelFunc: batchNormTrainGrad as unknown as tf.KernelConfig['kernelFunc'],
};

/**
 * Training-mode batch norm over all axes but the last, on the kernels above (wasm only), followed
 * by ReLU with `relu`.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu = false): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  let stats: tf.Tensor[] = [];
  const attrs = { epsilon, relu };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, gi, bi] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const [y, mean, variance] = tf.engine().runKernel(BatchNormTrain, { x: xi, gamma: gi, beta: bi }, attrs as never) as tf.Tensor[];
    save(relu ? [xi, gi, mean, variance, y] : [xi, gi, mean, variance]);
    // customGrad runs this in a tidy that keeps only `value`: the statistics leave through a keep.
    stats = [tf.keep(mean), tf.keep(variance)];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv, gate] = saved;
        const inputs = { dy: dy as tf.Tensor, x: sx, gamma: sg, mean: sm, variance: sv, ...(gate ? { gate } : {}) };
        return tf.engine().runKernel(BatchNormTrainGrad, inputs, attrs as never) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: stats[0], variance: stats[1] };
}

/** The parts of tfjs-layers' BatchNormalization layer the replacement reads. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  gamma: tfl.LayerVariable | null;
  beta: tfl.LayerVariable | null;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
}

/** Keras' moving-average update, written as tfjs-layers writes it. */
function movingAverage(variable: tfl.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const current = variable.read();
    variable.write(tf.sub(current, tf.mul(tf.sub(current, value), 1 - momentum)));
  });
}

/** Whether a ReLU activation layer alone takes this layer's output (conv, batch norm, ReLU in a Sequential). */
function feedsOnlyRelu(layer: tfl.layers.Layer): boolean {
  const nodes = (layer as unknown as { outboundNodes: { outboundLayer: tfl.layers.Layer }[] }).outboundNodes;
  if (nodes.length !== 1) return false;
  const next = nodes[0].outboundLayer;
  return next.getClassName() === 'Activation' && next.getConfig().activation === 'relu';
}

/** Data of batch-norm outputs that had ReLU applied already: the ReLU layer after passes them on. */
const reluApplied = new WeakSet<object>();

/**
 * Makes the model's BatchNormalization layers run training steps on the kernels above on wasm
 * (channels-last input, with scale and centre), fused with the ReLU layer that follows where one
 * does; everything else keeps tfjs-layers' code.
 */
export function useFastBatchNorm(model: tfl.LayersModel): void {
  const fused = new Set(model.layers.filter((layer) => layer.getClassName() === 'BatchNormalization' && feedsOnlyRelu(layer)));
  patchTrainingCall<BatchNormLayer & tfl.layers.Layer>(model, 'BatchNormalization', (bn, x) => {
    const axis = bn.axis >= 0 ? bn.axis : bn.axis + x.rank;
    if (axis !== x.rank - 1 || !bn.gamma || !bn.beta || x.dtype !== 'float32') return null;
    const relu = fused.has(bn);
    const out = tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(x, bn.gamma!.read(), bn.beta!.read(), bn.epsilon, relu);
      movingAverage(bn.movingMean, mean, bn.momentum);
      movingAverage(bn.movingVariance, variance, bn.momentum);
      tf.dispose([mean, variance]);
      return y;
    });
    if (relu) reluApplied.add(out.dataId);
    return out;
  });
  patchTrainingCall(model, 'Activation', (_, x) => (reluApplied.has(x.dataId) ? x : null));
}
