import { backend_util, FusedConv2D, type FusedConv2DAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ptr, scratchF32, withScratch, type SimdKernels } from './wasm-kernels.ts';

/** Tiles of kernels/winograd.c's winograd_conv (and winograd_filter_grad) per block (WG_TILES there). */
const WINOGRAD_TILES = 32;
/** Floats of padding after each of the 36 planes of a transform or scratch block (WG_SKEW in kernels/winograd.c). */
const WINOGRAD_SKEW = 16;
/** Products per tile and channel pair of F(4x4, 3x3): its transforms are 6x6. */
const WINOGRAD_POINTS = 36;
/** Fewest input channels for Winograd: with 3 (an RGB input) the transforms cost more than the products saved. */
const WINOGRAD_MIN_CHANNELS = 8;

/**
 * Whether kernels/winograd.c's Winograd F(4x4, 3x3) takes this convolution: 3x3, stride 1, no
 * dilation, input channels a multiple of 4 (at least 8), output channels a multiple of 8.
 *
 * @example
 * winogradApplies(backend_util.computeConv2DInfo([1, 32, 32, 24], [3, 3, 24, 32], 1, 1, 'same')); // true
 */
export function winogradApplies(info: backend_util.Conv2DInfo): boolean {
  return info.dilationHeight === 1 && info.dilationWidth === 1
    && winogradTransformBytes([info.filterHeight, info.filterWidth, info.inChannels, info.outChannels], [info.strideHeight, info.strideWidth]) > 0;
}

/**
 * Bytes of a filter's Winograd transform (36 floats per input and output channel pair, see
 * `winogradFilterFloats`) when an
 * undilated convolution with it and `strides` runs by Winograd, else 0: what a served version's
 * kept transforms add to its weights.
 *
 * @example
 * winogradTransformBytes([3, 3, 24, 32], [1, 1]); // 112896
 */
export function winogradTransformBytes(filterShape: readonly number[], strides: readonly [number, number]): number {
  const [kh, kw, ci, co] = filterShape;
  const applies = kh === 3 && kw === 3 && strides[0] === 1 && strides[1] === 1 && ci % 4 === 0 && ci >= WINOGRAD_MIN_CHANNELS && co % 8 === 0;
  return applies ? 4 * winogradFilterFloats(ci, co) : 0;
}

/**
 * Floats of scratch kernels/winograd.c needs for one block of tiles over `channels` channels (its
 * v, m and q arguments): 36 planes of WG_TILES tiles, each followed by WG_SKEW floats.
 *
 * @example
 * winogradScratchFloats(32); // 37440
 */
export function winogradScratchFloats(channels: number): number {
  return WINOGRAD_POINTS * (WINOGRAD_TILES * channels + WINOGRAD_SKEW);
}

/**
 * Floats of a filter's transform (or of the filter gradient's sums in the transformed domain): 36
 * planes of ci x co, each followed by WG_SKEW floats.
 *
 * @example
 * winogradFilterFloats(24, 32); // 28224
 */
export function winogradFilterFloats(ci: number, co: number): number {
  return WINOGRAD_POINTS * (ci * co + WINOGRAD_SKEW);
}

/**
 * conv(x, filter) by Winograd's F(4x4, 3x3) (4x fewer multiplications than a direct
 * convolution; the padding stays implicit), for a convolution `winogradApplies` to. NHWC
 * float32. The filter is transformed on every call unless `transformed` (the heap offset of
 * kernels/winograd.c's winograd_filter output for it) is given: in training it changes every step,
 * and the transform costs about what the products of one or two of a batch's tiles do.
 *
 * @example
 * const y = winogradConv2D(backend, kernels, x, filter, info);
 */
export function winogradConv2D(backend: BackendWasm, kernels: SimdKernels, x: TensorInfo, filter: TensorInfo, info: backend_util.Conv2DInfo, transformed?: number): TensorInfo {
  const { batchSize: nb, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, inHeight: h, inWidth: w } = info;
  const y = backend.makeOutput(info.outShape, 'float32');
  const floats = { u: transformed === undefined ? winogradFilterFloats(ci, co) : 0, v: winogradScratchFloats(ci), m: winogradScratchFloats(co) };
  withScratch(backend, 4 * (floats.u + floats.v + floats.m), (at) => {
    const u = transformed ?? at, v = at + 4 * floats.u, m = v + 4 * floats.v;
    if (transformed === undefined) kernels.winograd_filter(ptr(backend, filter), u, ci, co);
    kernels.winograd_conv(ptr(backend, x), u, ptr(backend, y), v, m, nb, h, w, ci, oh, ow, co, info.padInfo.top, info.padInfo.left);
  });
  return y;
}

/**
 * The Winograd transforms of filters that never change, kept per filter tensor (a served
 * version's weights): the transform is then done once, at the version's load-time self-test,
 * instead of in every request. A transform is freed at the first call after its filter's data
 * has left the backend (the version was unloaded).
 */
function filterTransforms() {
  const kept = new Map<object, { backend: BackendWasm; u: TensorInfo }>();
  return (backend: BackendWasm, kernels: SimdKernels, filter: TensorInfo): number => {
    for (const [dataId, entry] of kept) {
      if (entry.backend.dataIdMap.has(dataId as never)) continue;
      entry.backend.disposeData(entry.u.dataId);
      kept.delete(dataId);
    }
    let entry = kept.get(filter.dataId);
    if (!entry) {
      const [, , ci, co] = filter.shape;
      entry = { backend, u: backend.makeOutput([winogradFilterFloats(ci, co)], 'float32') };
      kernels.winograd_filter(ptr(backend, filter), ptr(backend, entry.u), ci, co);
      kept.set(filter.dataId, entry);
    }
    return ptr(backend, entry.u);
  };
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

export interface WinogradFusedConv2DOptions {
  /** Filters are never written once made (a served model's weights, not a trained one's): transform each once. */
  constantFilters?: boolean;
}

/**
 * A FusedConv2D kernel for the wasm backend that runs the convolutions `winogradApplies` to on
 * kernels/winograd.c (with bias and ReLU, the ops a folded network is made of) and hands every
 * other case to `original`, the backend's own (XNNPACK). For one 64x64 image of the compact CNN,
 * the three Winograd-eligible convolutions take 0.21 ms on the plain SIMD build and their filter
 * transforms, made once per served version, cost far less than XNNPACK's packing of the same
 * filters.
 *
 * @example
 * registerKernel(winogradFusedConv2D((backend) => kernelsOn(backend, kernelsModule), getKernel(FusedConv2D, 'wasm')!, { constantFilters: true }));
 */
export function winogradFusedConv2D(kernelsFor: (backend: BackendWasm) => SimdKernels, original: KernelConfig, options: WinogradFusedConv2DOptions = {}): KernelConfig {
  const transformOf = options.constantFilters ? filterTransforms() : undefined;
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
    const y = winogradConv2D(backend, kernels, x, filter, info, transformOf?.(backend, kernels, filter));
    if (bias || activation === 'relu') biasAndRelu(backend, kernels, y, bias, activation === 'relu');
    return y;
  };
  return { kernelName: FusedConv2D, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'], setupFunc: original.setupFunc };
}
