import { backend_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simd, withScratch } from '../simd.ts';
import { makeF32, originalKernel, type BackendWasm } from '../wasm-ops.ts';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/**
 * Sum or mean over the leading axes (a bias or batch-norm gradient: every axis but channels), as
 * a row-by-row SIMD accumulation flushed to float64 (shared/kernels/kernels.c). wasm's kernels first transpose the reduced axes to the
 * inside, a full extra pass at a slow stride. Other axis sets go to wasm's own kernel.
 */
export function leadingAxesReduce(kernelName: 'Sum' | 'Mean') {
  return (args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: ReduceAttrs }): TensorInfo => {
    const { inputs: { x }, backend, attrs } = args;
    const axes = [...new Set(util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading || axes.length === x.shape.length) {
      return originalKernel(kernelName).kernelFunc(args as never) as TensorInfo;
    }
    const rows = util.sizeFromShape(x.shape.slice(0, axes.length));
    const cols = util.sizeFromShape(x.shape.slice(axes.length));
    const kept = x.shape.slice(axes.length);
    const outShape = attrs.keepDims ? backend_util.expandShapeToKeepDim(kept, axes) : kept;
    const out = makeF32(backend, outShape);
    const scale = kernelName === 'Mean' ? 1 / rows : 1;
    // Scratch: float32 partials (cols * 4 bytes, rounded up to 8) then float64 totals.
    const partBytes = Math.ceil(cols / 2) * 8;
    withScratch(backend, partBytes + cols * 8, (scratch) => {
      simd(backend).sum_rows(ptr(backend, x), rows, cols, ptr(backend, out), scale, scratch, scratch + partBytes);
    });
    return out;
  };
}

export const sumConfig: KernelConfig = {
  kernelName: 'Sum',
  backendName: 'wasm',
  kernelFunc: leadingAxesReduce('Sum') as unknown as KernelConfig['kernelFunc'],
};
