import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

type Call = (inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }) => tf.Tensor | tf.Tensor[];

const patched = new WeakSet<object>();

/**
 * Gives the model's layers of class `className` another training-mode forward pass on wasm:
 * `training(layer, x)` runs instead of tfjs-layers' `call` when it returns a tensor; it returns
 * null for inputs or settings it does not cover. Inference and other backends keep tfjs-layers'
 * code. Idempotent per layer.
 */
export function patchTrainingCall<L>(model: tfl.LayersModel, className: string, training: (layer: L, x: tf.Tensor) => tf.Tensor | null): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== className || patched.has(layer)) continue;
    patched.add(layer);
    const target = layer as unknown as { call: Call };
    const original = target.call.bind(target);
    target.call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return (kwargs?.training && tf.getBackend() === 'wasm' && training(layer as unknown as L, x)) || original(inputs, kwargs);
    };
  }
}
