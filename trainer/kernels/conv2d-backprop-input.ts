import { backend_util, Conv2DBackpropInput, type Conv2DBackpropInputAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { directConv2D } from './conv2d.ts';
import { disposeAll, explicitPad, fastTranspose, originalKernel, run, type BackendWasm } from './wasm-ops.ts';

/**
 * For stride 1, dx is a plain convolution of dy with the filter turned 180 degrees and its
 * in/out channels swapped, padded by k-1-pad. That runs on the project's direct convolution
 * (conv2d.ts) or XNNPACK's, ten times faster than wasm's own direct loop, which is kept for
 * strided and NCHW cases.
 */
function conv2dBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: BackendWasm; attrs: Conv2DBackpropInputAttrs }): TensorInfo {
  const { inputs: { dy, filter }, backend, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  const original = () => originalKernel(Conv2DBackpropInput).kernelFunc(args as never) as TensorInfo;
  if (backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') return original();
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return original();
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = h + kh - 1 - oh - top;
  const right = w + kw - 1 - ow - left;
  if (Math.min(top, left, bottom, right) < 0) return original();
  const reversed = run(backend, 'Reverse', { x: filter }, { dims: [0, 1] });
  const flipped = fastTranspose(backend, reversed, [0, 1, 3, 2]);
  disposeAll(backend, reversed);
  const flippedPad = explicitPad(top, bottom, left, right);
  const flippedInfo = backend_util.computeConv2DInfo(dy.shape as [number, number, number, number], flipped.shape as [number, number, number, number], 1, 1, flippedPad as never);
  const dx = directConv2D(backend, dy, flipped, flippedInfo)
    ?? run(backend, 'Conv2D', { x: dy, filter: flipped }, { strides: [1, 1], pad: flippedPad, dataFormat: 'NHWC', dilations: [1, 1] });
  disposeAll(backend, flipped);
  return dx;
}

export const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as KernelConfig['kernelFunc'],
};
