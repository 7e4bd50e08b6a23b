import { Tile, type KernelConfig, type TensorInfo, type TileAttrs } from '@tensorflow/tfjs-core';
import { originalKernel, type BackendWasm } from '../wasm-ops.ts';

type Heap = Float32Array | Int32Array;

/** Repeats `block` elements at `at` until `total` are filled, doubling the copied span each time. */
function repeat(dst: Heap, at: number, block: number, total: number): void {
  for (let filled = block; filled < total; filled *= 2) dst.copyWithin(at + filled, at, at + Math.min(filled, total - filled));
}

/**
 * Tile by memmove: each axis' block is written once and then doubled with copyWithin. Batch norm's
 * gradient tiles a per-channel vector to the full activation shape, which wasm's element-by-element
 * kernel does ~100x slower.
 */
function tile(args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: TileAttrs }): TensorInfo {
  const { inputs: { x }, backend, attrs: { reps } } = args;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0) {
    return originalKernel(Tile).kernelFunc(args as never) as TensorInfo;
  }
  if (reps.length !== x.shape.length) throw new Error(`Tile: reps [${reps}] must have one entry per axis of shape [${x.shape}]`);
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x) as Heap;
  const dst = backend.typedArrayFromHeap(out) as Heap;
  if (dst.length === 0) return out;
  const inStrides = new Array<number>(rank);
  const outStrides = new Array<number>(rank);
  inStrides[rank - 1] = outStrides[rank - 1] = 1;
  for (let a = rank - 2; a >= 0; a--) {
    inStrides[a] = inStrides[a + 1] * x.shape[a + 1];
    outStrides[a] = outStrides[a + 1] * outShape[a + 1];
  }
  const fill = (axis: number, inAt: number, outAt: number): void => {
    const n = x.shape[axis];
    if (axis === rank - 1) dst.set(src.subarray(inAt, inAt + n), outAt);
    else for (let i = 0; i < n; i++) fill(axis + 1, inAt + i * inStrides[axis], outAt + i * outStrides[axis]);
    const block = n * outStrides[axis];
    repeat(dst, outAt, block, block * reps[axis]);
  };
  fill(0, 0, 0);
  return out;
}

export const tileConfig: KernelConfig = {
  kernelName: Tile,
  backendName: 'wasm',
  kernelFunc: tile as unknown as KernelConfig['kernelFunc'],
};
