import type * as tf from '@tensorflow/tfjs-core';
import { backwardCoefficients, batchNormOp, batchStatistics, channelSums, shapeOf, wasmKernel, withVectors, type BatchNormAttrs, type Info } from './batch-norm-stats.ts';
import { ptr, simd } from '../simd.ts';
import { makeF32, type BackendWasm } from '../wasm-ops.ts';

/**
 * Project kernels for a conv block's tail in training: batch norm, ReLU and a 2x2 max-pool of
 * stride 2 (valid padding) as one forward pass that writes only the pooled output, and one
 * backward pass. Apart, the three write and read back the full-size activation five more times
 * (normalised output, MaxPool's input, MaxPoolGrad's zeroed and scattered output, the ReLU gate);
 * on the compact model's first block that is most of the step's memory traffic outside the convs.
 * Forward: [y (pooled), mean, variance, xmax, where] from x [n, h, w, c], gamma, beta; xmax and
 * where (x at each window's maximum and its position) are for the backward pass only.
 * Backward: [dx, dgamma, dbeta]. Statistics are summed over replicas as in batch-norm.ts.
 */
const BatchNormReluPoolTrain = 'CellsenseBatchNormReluPoolTrain';
const BatchNormReluPoolTrainGrad = 'CellsenseBatchNormReluPoolTrainGrad';

function pooledShape(x: Info): number[] {
  const [n, h, w, c] = x.shape;
  return [n, Math.floor(h / 2), Math.floor(w / 2), c];
}

function batchNormReluPoolTrain(args: { inputs: { x: Info; gamma: Info; beta: Info }; backend: BackendWasm; attrs: BatchNormAttrs }): Info[] {
  const { inputs: { x, gamma, beta }, backend, attrs: { epsilon } } = args;
  const [n, h, w, c] = x.shape;
  const y = makeF32(backend, pooledShape(x));
  const xmax = makeF32(backend, pooledShape(x));
  // One byte per pooled value: 'bool' is the wasm backend's only one-byte dtype.
  const where = backend.makeOutput(pooledShape(x), 'bool');
  const { mean, variance, scale } = batchStatistics(backend, x, gamma, epsilon);
  withVectors(backend, [scale], ([scaleAt]) => {
    simd(backend).bn_relu_pool(ptr(backend, x), ptr(backend, y), ptr(backend, xmax), ptr(backend, where), n, h, w, c, ptr(backend, mean), scaleAt, ptr(backend, beta));
  });
  return [y, mean, variance, xmax, where];
}

/**
 * dy reaches x only at each window's maximum, so its sums need only the pooled values: dy, the
 * output as ReLU's gate and x at the maximum (xmax), over the pooled rows, standing for all of x's.
 */
function batchNormReluPoolTrainGrad(args: {
  inputs: Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance' | 'y' | 'xmax' | 'where', Info>;
  backend: BackendWasm;
  attrs: BatchNormAttrs;
}): Info[] {
  const { inputs: { dy, x, gamma, mean, variance, y, xmax, where }, backend, attrs: { epsilon } } = args;
  const [n, h, w, c] = x.shape;
  const dx = makeF32(backend, x.shape);
  const local = channelSums(backend, xmax, { dy, mean, gate: y }, shapeOf(x).rows);
  const { dgamma, dbeta, a, b, d } = backwardCoefficients(backend, local, gamma, variance, epsilon);
  withVectors(backend, [a, b, d], ([aAt, bAt, dAt]) => {
    simd(backend).bn_relu_pool_backward(ptr(backend, dy), ptr(backend, y), ptr(backend, where), ptr(backend, x), ptr(backend, dx), n, h, w, c,
      ptr(backend, mean), aAt, bAt, dAt);
  });
  return [dx, dgamma, dbeta];
}
export const batchNormReluPoolTrainConfig = wasmKernel(BatchNormReluPoolTrain, batchNormReluPoolTrain);
export const batchNormReluPoolTrainGradConfig = wasmKernel(BatchNormReluPoolTrainGrad, batchNormReluPoolTrainGrad);

/**
 * maxPool(relu(batchNorm(x)), 2, 2, 'valid') in training mode over the batch of x [n, h, w, c]
 * (wasm only): the pooled output and the batch statistics, for the moving averages.
 */
export function batchNormReluPoolTraining(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  return batchNormOp(BatchNormReluPoolTrain, BatchNormReluPoolTrainGrad, { epsilon }, { mean: 1, variance: 2, y: 0, xmax: 3, where: 4 })(x, gamma, beta);
}
