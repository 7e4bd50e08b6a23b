import { backend_util, MaxPoolGrad, type KernelConfig, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simd, withScratch } from '../simd.ts';
import { makeF32, originalKernel, type BackendWasm } from '../wasm-ops.ts';

/**
 * Routes each dy value to the first maximum of its window (row-major, strict >), as the cpu
 * backend does, in shared/kernels/kernels.c. Walking the windows with the channel axis innermost reads memory
 * in order; wasm's own kernel walks it per channel and takes far longer on training-sized tensors.
 */
function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: BackendWasm; attrs: MaxPoolGradAttrs }): TensorInfo {
  const { inputs: { dy, input }, backend, attrs } = args;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return originalKernel(MaxPoolGrad).kernelFunc(args as never) as TensorInfo;
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: ch, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { top, left } = info.padInfo;
  const dx = makeF32(backend, input.shape);
  withScratch(backend, ch * 8, (scratch) => {
    simd(backend).max_pool_grad(ptr(backend, input), ptr(backend, dy), ptr(backend, dx), nb, h, w, ch, oh, ow, kh, kw, sh, sw, top, left, scratch, scratch + ch * 4);
  });
  return dx;
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGrad as unknown as KernelConfig['kernelFunc'],
};
