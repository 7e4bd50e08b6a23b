import { backend_util, Conv2D, FusedConv2D, type Conv2DAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { winogradApplies, winogradConv2D, winogradFilterFloats, winogradFusedConv2D, winogradScratchFloats } from '../../../shared/index.ts';
import { ptr, simd, withScratch } from '../simd.ts';
import { disposeAll, makeF32, originalKernel, padSpatial, type BackendWasm } from '../wasm-ops.ts';

/** Widest output whose input is padded first (see convInput): measured on the compact CNN, 16 gains 10% a step, 64 loses. */
const PAD_UP_TO_WIDTH = 16;

/** Where a direct-convolution kernel reads its input: heap offset, size, and the padding still implicit. */
interface ConvInput {
  at: number;
  h: number;
  w: number;
  top: number;
  left: number;
  release(): void;
}

/**
 * x as the direct kernels read it. When the output is narrow, its border columns matter: the
 * kernels take a pixel whose filter row leaves the image one row of taps at a time (2 pixels of
 * every 8-wide row), so x is copied with the zero padding written out and every pixel is inside.
 * Wider outputs read x where it lies, the copy costing more than it saves.
 */
export function convInput(backend: BackendWasm, x: TensorInfo, info: backend_util.Conv2DInfo): ConvInput {
  const { top, bottom, left, right } = info.padInfo;
  if (info.outWidth > PAD_UP_TO_WIDTH || top + bottom + left + right === 0) {
    return { at: ptr(backend, x), h: info.inHeight, w: info.inWidth, top, left, release: () => {} };
  }
  const padded = padSpatial(backend, x, top, Math.max(0, bottom), left, Math.max(0, right));
  return { at: ptr(backend, padded), h: padded.shape[1], w: padded.shape[2], top: 0, left: 0, release: () => disposeAll(backend, padded) };
}

/**
 * conv(x, filter) on shared/kernels/kernels.c's conv_forward when it applies (NHWC float32, no dilation,
 * output channels in multiples of 8), else null. It reads patches where they lie in x and the filter
 * as it is; XNNPACK repacks the filter on every call and, on these shapes, multiplies more slowly.
 */
export function directConv2D(backend: BackendWasm, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  const { batchSize: nb, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (co % 8 !== 0 || info.dilationHeight !== 1 || info.dilationWidth !== 1 || x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  if (winogradApplies(info)) return winogradConv2D(backend, simd(backend), x, filter, info);
  const y = makeF32(backend, info.outShape);
  const input = convInput(backend, x, info);
  simd(backend).conv_forward(input.at, ptr(backend, filter), ptr(backend, y), nb, input.h, input.w, ci, oh, ow, co, kh, kw, sh, sw, input.top, input.left);
  input.release();
  return y;
}

/** dW of a convolution winogradApplies to, by the same transform read backwards (winograd_filter_grad). */
export function winogradFilterGrad(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: nb, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, inHeight: h, inWidth: w } = info;
  const dW = makeF32(backend, [3, 3, ci, co]);
  const floats = { v: winogradScratchFloats(ci), q: winogradScratchFloats(co), m: winogradFilterFloats(ci, co) };
  withScratch(backend, 4 * (floats.v + floats.q + floats.m), (at) => {
    const v = at, q = v + 4 * floats.v, m = q + 4 * floats.q;
    simd(backend).winograd_filter_grad(ptr(backend, x), ptr(backend, dy), ptr(backend, dW), v, q, m, nb, h, w, ci, oh, ow, co, info.padInfo.top, info.padInfo.left);
  });
  return dW;
}

/** Conv2D, the unfused convolution of a training step (inference runs FusedConv2D, below). */
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

/**
 * FusedConv2D, what the folded forward pass of validation, evaluation and the bench runs: the
 * same Winograd kernel the Worker serves with (shared/inference/winograd-conv.ts) where it applies, wasm's
 * own (XNNPACK) otherwise, so the accuracy reported is that of the Worker's arithmetic.
 */
export const fusedConv2dConfig: KernelConfig = winogradFusedConv2D(simd, {
  kernelName: FusedConv2D,
  backendName: 'wasm',
  kernelFunc: (args) => originalKernel(FusedConv2D).kernelFunc(args),
});
