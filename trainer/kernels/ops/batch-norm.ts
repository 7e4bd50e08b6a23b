import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchNormReluPoolTraining } from './batch-norm-pool.ts';
import { backwardCoefficients, batchNormOp, batchStatistics, channelSums, shapeOf, wasmKernel, withVectors, type BatchNormAttrs, type Info } from './batch-norm-stats.ts';
import { patchTrainingCall } from '../layer-patch.ts';
import { ptr, simd } from '../simd.ts';
import { makeF32, type BackendWasm } from '../wasm-ops.ts';

/**
 * Project kernels: batch normalisation in training mode over every axis but the last, forward
 * ([y, mean, variance] from x, gamma, beta) and backward ([dx, dgamma, dbeta]). tfjs composes both
 * of ~20 elementwise kernels over the full activation; these make two passes each. The batch
 * statistics are summed over data-parallel replicas (replica-sum.ts), which makes N replicas of
 * B/N images compute exactly what one replica of B computes (synchronised batch norm).
 * With `relu`, the forward pass also applies the ReLU that follows it and the backward pass takes
 * ReLU's gradient on the way (its output, `gate`, says where): two passes over the activation fewer.
 */
const BatchNormTrain = 'CellsenseBatchNormTrain';
const BatchNormTrainGrad = 'CellsenseBatchNormTrainGrad';

function batchNormTrain(args: { inputs: { x: Info; gamma: Info; beta: Info }; backend: BackendWasm; attrs: BatchNormAttrs }): Info[] {
  const { inputs: { x, gamma, beta }, backend, attrs: { epsilon, relu } } = args;
  const { rows, cols } = shapeOf(x);
  const y = makeF32(backend, x.shape);
  const { mean, variance, scale } = batchStatistics(backend, x, gamma, epsilon);
  withVectors(backend, [scale], ([scaleAt]) => {
    simd(backend).bn_forward(ptr(backend, x), ptr(backend, y), rows, cols, ptr(backend, mean), scaleAt, ptr(backend, beta), relu ? 1 : 0);
  });
  return [y, mean, variance];
}

/** The input gradient with batch-norm-stats' backwardCoefficients; ReLU's too, given the `gate`. */
function batchNormTrainGrad(args: {
  inputs: Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance', Info> & { gate?: Info };
  backend: BackendWasm;
  attrs: BatchNormAttrs;
}): Info[] {
  const { inputs: { dy, x, gamma, mean, variance, gate }, backend, attrs: { epsilon } } = args;
  const { rows, cols } = shapeOf(x);
  const dx = makeF32(backend, x.shape);
  const { dgamma, dbeta, a, b, d } = backwardCoefficients(backend, channelSums(backend, x, { dy, mean, gate }), gamma, variance, epsilon);
  withVectors(backend, [a, b, d], ([aAt, bAt, dAt]) => {
    simd(backend).bn_backward(ptr(backend, dy), ptr(backend, x), ptr(backend, dx), rows, cols, ptr(backend, mean), aAt, bAt, dAt, gate ? ptr(backend, gate) : 0);
  });
  return [dx, dgamma, dbeta];
}
export const batchNormTrainConfig = wasmKernel(BatchNormTrain, batchNormTrain);
export const batchNormTrainGradConfig = wasmKernel(BatchNormTrainGrad, batchNormTrainGrad);

/**
 * Training-mode batch norm over all axes but the last, on the kernels above (wasm only), followed
 * by ReLU with `relu`.
 */
export function batchNormTraining(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, relu = false): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  // With ReLU, its output is the backward pass's gate.
  return batchNormOp(BatchNormTrain, BatchNormTrainGrad, { epsilon, relu }, { mean: 1, variance: 2, ...(relu ? { gate: 0 } : {}) })(x, gamma, beta);
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

type Layer = tfl.layers.Layer;

/** The one layer that takes this layer's output, if only one does (as in a Sequential). */
function soleConsumer(layer: Layer): Layer | null {
  const nodes = (layer as unknown as { outboundNodes: { outboundLayer: Layer }[] }).outboundNodes;
  return nodes.length === 1 ? nodes[0].outboundLayer : null;
}

function isRelu(layer: Layer | null): layer is Layer {
  return layer?.getClassName() === 'Activation' && layer.getConfig().activation === 'relu';
}

/** A MaxPooling2D of 2x2 windows, stride 2, valid padding, channels last: what bn_relu_pool computes. */
function isHalvingPool(layer: Layer | null): boolean {
  if (layer?.getClassName() !== 'MaxPooling2D') return false;
  const { poolSize, strides, padding, dataFormat } = layer.getConfig() as { poolSize: number[]; strides: number[]; padding: string; dataFormat: string };
  return `${poolSize}` === '2,2' && `${strides}` === '2,2' && padding === 'valid' && dataFormat === 'channelsLast';
}

/** Data of batch-norm outputs that had ReLU (and max-pooling) applied already: those layers pass them on. */
const reluApplied = new WeakSet<object>();
const poolApplied = new WeakSet<object>();

/**
 * Makes the model's BatchNormalization layers run training steps on the kernels above on wasm
 * (channels-last input, with scale and centre), fused with the ReLU layer that follows where one
 * does, and with the 2x2 max-pooling after that ReLU where one follows (batch-norm-pool.ts);
 * everything else keeps tfjs-layers' code.
 */
export function useFastBatchNorm(model: tfl.LayersModel): void {
  const norms = model.layers.filter((layer) => layer.getClassName() === 'BatchNormalization');
  const fused = new Set(norms.filter((layer) => isRelu(soleConsumer(layer))));
  const pooled = new Set([...fused].filter((layer) => isHalvingPool(soleConsumer(soleConsumer(layer)!))));
  patchTrainingCall<BatchNormLayer & Layer>(model, 'BatchNormalization', (bn, x) => {
    const axis = bn.axis >= 0 ? bn.axis : bn.axis + x.rank;
    if (axis !== x.rank - 1 || !bn.gamma || !bn.beta || x.dtype !== 'float32') return null;
    const relu = fused.has(bn), pool = pooled.has(bn) && x.rank === 4;
    const out = tf.tidy(() => {
      const { y, mean, variance } = pool
        ? batchNormReluPoolTraining(x as tf.Tensor4D, bn.gamma!.read(), bn.beta!.read(), bn.epsilon)
        : batchNormTraining(x, bn.gamma!.read(), bn.beta!.read(), bn.epsilon, relu);
      movingAverage(bn.movingMean, mean, bn.momentum);
      movingAverage(bn.movingVariance, variance, bn.momentum);
      tf.dispose([mean, variance]);
      return y;
    });
    if (relu) reluApplied.add(out.dataId);
    if (pool) poolApplied.add(out.dataId);
    return out;
  });
  patchTrainingCall(model, 'Activation', (_, x) => (reluApplied.has(x.dataId) ? x : null));
  patchTrainingCall(model, 'MaxPooling2D', (_, x) => (poolApplied.has(x.dataId) ? x : null));
}
