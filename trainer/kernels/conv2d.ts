import { backend_util, Conv2D, type Conv2DAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simd } from './simd.ts';
import { makeF32, originalKernel, type BackendWasm } from './wasm-ops.ts';

/**
 * conv(x, filter) on simd/kernels.c's conv_forward when it applies (NHWC float32, no dilation,
 * output channels in multiples of 8), else null. It reads patches where they lie in x and the filter
 * as it is; XNNPACK repacks the filter on every call and, on these shapes, multiplies more slowly.
 */
export function directConv2D(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (co % 8 !== 0 || info.dilationHeight !== 1 || info.dilationWidth !== 1 || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const y = makeF32(backend, info.outShape);
  simd(backend).conv_forward(ptr(backend, x), ptr(backend, filter), ptr(backend, y), nb, h, w, ci, oh, ow, co, kh, kw, sh, sw, info.padInfo.top, info.padInfo.left);
  return y;
}

/** Conv2D, the unfused convolution of a training step (inference runs FusedConv2D, left to XNNPACK). */
function conv2d(args: { inputs: { x: TensorInfo; filter: TensorInfo }; backend: BackendWasm; attrs: Conv2DAttrs }): TensorInfo {
  const { inputs: { x, filter }, backend, attrs } = args;
  const original = () => originalKernel(Conv2D).kernelFunc(args as never) as TensorInfo;
  if (backend_util.convertConv2DDataFormat(attrs.dataFormat) !== 'channelsLast') return original();
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode);
  return directConv2D(backend, x, filter, info) ?? original();
}

export const conv2dConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as KernelConfig['kernelFunc'],
};
