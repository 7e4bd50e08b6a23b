import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export type LossFunction = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/**
 * Cross-entropy against labels smoothed toward uniform: the model's output is a softmax, so
 * the loss is written on probabilities (clipped like Keras does) rather than on logits.
 */
export function smoothedCrossEntropy(smoothing: number): LossFunction {
  return (yTrue, yPred) => tf.tidy(() => {
    const classes = yTrue.shape[yTrue.shape.length - 1]!;
    const target = smoothing ? tf.add(tf.mul(yTrue, 1 - smoothing), smoothing / classes) : yTrue;
    return tf.neg(tf.sum(tf.mul(target, tf.log(tf.clipByValue(yPred, 1e-7, 1 - 1e-7))), -1));
  });
}

/**
 * A tensor's float32 values without an intermediate copy where the backend allows: on wasm a view
 * of its heap (valid until the next allocation), elsewhere `dataSync`. For copying out at once.
 */
export function valuesOf(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as unknown as { typedArrayFromHeap?: (t: tf.TensorInfo) => Float32Array };
  return tf.getBackend() === 'wasm' && backend.typedArrayFromHeap ? backend.typedArrayFromHeap(t) : (t.dataSync() as Float32Array);
}

/** The model's trainable variables, in `model.weights` order: the order gradients travel in. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.weights.filter((w) => w.trainable).map((w) => w.read() as tf.Variable);
}

interface ShardResult {
  /** Gradient of each trainable variable (trainableVariables order); the caller disposes them. */
  grads: tf.Tensor[];
  /** Sum of this shard's per-example losses, and how many of its examples were classified right. */
  lossSum: number;
  correct: number;
}

/**
 * One replica's part of a training step: gradients of (sum of this shard's losses) / `batchSize`,
 * the size of the whole batch, so that the replicas' gradients add up to the batch-mean gradient
 * `trainOnBatch` would take. Batch norm layers sum their statistics over replicas on the way.
 */
export function shardGradients(model: tfl.LayersModel, loss: LossFunction, x: tf.Tensor, y: tf.Tensor, batchSize: number): ShardResult {
  const variables = trainableVariables(model);
  let lossSum = 0, correct = 0;
  const { value, grads } = tf.variableGrads(() => {
    const pred = model.apply(x, { training: true }) as tf.Tensor;
    const perExample = loss(y, pred);
    const total = tf.sum(perExample);
    lossSum = total.dataSync()[0];
    correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(y, -1), tf.argMax(pred, -1)), 'float32')).dataSync()[0]);
    return tf.div(total, batchSize) as tf.Scalar;
  }, variables);
  value.dispose();
  return { grads: variables.map((v) => grads[v.name]), lossSum, correct };
}
