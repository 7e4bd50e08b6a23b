import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { patchTrainingCall } from './layer-patch.ts';

/** The parts of tfjs-layers' Conv2D layer the replacement reads. */
interface ConvLayer {
  rank: number;
  dataFormat: string;
  kernel: tfl.LayerVariable;
  bias: tfl.LayerVariable | null;
  strides: number[];
  padding: 'same' | 'valid' | 'causal';
  dilationRate: number | number[];
  activation: { apply(x: tf.Tensor): tf.Tensor };
}

/**
 * tfjs-layers runs a Conv2D with linear activation (no ReLU fused: every conv of `compact`) as
 * tfjs-core's fused conv op, whose custom gradient computes the input gradient even where nothing
 * needs it: for the first layer, a full-size gradient of the image batch (~10% of a compact step on
 * wasm). In training on wasm this runs the same convolution as conv2d + bias + activation, whose
 * gradients tfjs computes only when needed, as tfjs itself does for a fused ReLU during training.
 */
export function useLeanConvGradients(model: tfl.LayersModel): void {
  patchTrainingCall<ConvLayer>(model, 'Conv2D', (conv, x) => {
    if (conv.rank !== 2 || conv.dataFormat !== 'channelsLast' || conv.padding === 'causal') return null;
    return tf.tidy(() => {
      let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, conv.kernel.read() as tf.Tensor4D, conv.strides as [number, number], conv.padding as 'same' | 'valid',
        'NHWC', conv.dilationRate as [number, number]);
      if (conv.bias) y = tf.add(y, conv.bias.read());
      return conv.activation.apply(y);
    });
  });
}
