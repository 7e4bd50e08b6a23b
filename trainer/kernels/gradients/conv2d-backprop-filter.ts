import { backend_util, Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { winogradApplies } from '../../../shared/index.ts';
import { convInput, winogradFilterGrad } from '../ops/conv2d.ts';
import { ptr, simd } from '../simd.ts';
import { disposeAll, fastTranspose, makeF32, run, type BackendWasm } from '../wasm-ops.ts';

/**
 * Patches laid out one row per filter tap and input channel, one column per output pixel:
 * row (i*kw + j)*ci + c holds x[b, y*sh + i - top, x*sw + j - left, c] for every (b, y, x), 0 in the padding.
 */
function patchesByTap(backend: BackendWasm, x: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Channel-major first so each row below reads one contiguous image plane.
  const planes = fastTranspose(backend, x, [3, 0, 1, 2]);
  const out = makeF32(backend, [1, kh * kw * ci, nb * oh * ow]);
  simd(backend).patches_by_tap(ptr(backend, planes), ptr(backend, out), nb, h, w, ci, oh, ow, kh, kw, sh, sw, top, left);
  disposeAll(backend, planes);
  return out;
}

/**
 * dW[i, j, c, o] = sum over (b, y, x) of x[b, y*s + i - pad, x*s + j - pad, c] * dy[b, y, x, o]: a GEMM
 * of the patches [pixels, kh*kw*ci] with dy as [pixels, co]. wasm ships no kernel for this at all
 * (tfjs issue 8474). Output channels in multiples of 8 take conv_filter_grad of shared/kernels/kernels.c, which
 * reads the patches where they lie in x; others a tap-major patch matrix on XNNPACK through wasm's
 * BatchMatMul (whose weight packing costs more).
 */
function conv2dBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: BackendWasm; attrs: Conv2DBackpropFilterAttrs }): TensorInfo {
  const { inputs: { x, dy }, backend, attrs } = args;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new Error(`Conv2DBackpropFilter on wasm supports only NHWC data, got dataFormat '${dataFormat}'`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('Conv2DBackpropFilter on wasm supports only float32');
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  if (dy.shape.join() !== info.outShape.join()) {
    throw new Error(`Conv2DBackpropFilter: dy has shape [${dy.shape}], the forward pass gives [${info.outShape}]`);
  }
  const { batchSize: nb, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  if (winogradApplies(info)) return winogradFilterGrad(backend, x, dy, info);
  if (co % 8 === 0) {
    // Straight from x and dy on the SIMD helper: no patch matrix (28 MB for a 32x32x24 batch of 32).
    const dW = makeF32(backend, filterShape);
    const input = convInput(backend, x, info);
    simd(backend).conv_filter_grad(input.at, ptr(backend, dy), ptr(backend, dW), nb, input.h, input.w, ci, oh, ow, co, kh, kw, sh, sw, input.top, input.left);
    input.release();
    return dW;
  }
  const patches = patchesByTap(backend, x, info);
  const dy3 = run(backend, 'Reshape', { x: dy }, { shape: [1, info.batchSize * info.outHeight * info.outWidth, info.outChannels] });
  const product = run(backend, 'BatchMatMul', { a: patches, b: dy3 }, { transposeA: false, transposeB: false });
  disposeAll(backend, patches, dy3);
  const dW = run(backend, 'Reshape', { x: product }, { shape: filterShape });
  disposeAll(backend, product);
  return dW;
}

export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as KernelConfig['kernelFunc'],
};
