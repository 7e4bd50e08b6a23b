import { BatchMatMul, util, type BatchMatMulAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { ptr, simd } from '../simd.ts';
import { disposeAll, fastTranspose, makeF32, originalKernel, type BackendWasm } from '../wasm-ops.ts';

/** Swaps the last two axes. */
function swapLast(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return fastTranspose(backend, x, perm);
}

/** XNNPACK repacks the right operand ("weights") on every new tensor at ~8 ns an element here. */
const PACK_COST = 4;

/** Products with few rows (a dense layer's batch), where packing weights costs more than multiplying. */
const FEW_ROWS = 256;

/**
 * The SIMD GEMMs of shared/kernels/kernels.c for a single product whose shape suits them, reading both
 * operands where they lie (no transposes, no packing); null when none fits.
 */
function directProduct(backend: BackendWasm, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, outShape: number[]): TensorInfo | null {
  const ra = a.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[ra - 2] : b.shape[ra - 1];
  const kernels = simd(backend);
  let run: ((out: TensorInfo) => void) | null = null;
  if (!transposeA && !transposeB && n % 8 === 0 && m <= FEW_ROWS) run = (c) => kernels.gemm_nn(ptr(backend, a), ptr(backend, b), ptr(backend, c), m, n, k);
  else if (!transposeA && transposeB && k % 4 === 0 && m <= FEW_ROWS) run = (c) => kernels.gemm_nt(ptr(backend, a), ptr(backend, b), ptr(backend, c), m, n, k);
  else if (transposeA && !transposeB && n % 8 === 0) run = (c) => kernels.gemm_tn(ptr(backend, a), ptr(backend, b), ptr(backend, c), k, m, n);
  if (!run) return null;
  const out = makeF32(backend, outShape);
  run(out);
  return out;
}

/**
 * wasm's BatchMatMul runs XNNPACK's GEMM only for a single, untransposed product and falls back to
 * a scalar triple loop otherwise, which is what every dense-layer gradient asks for (x^T dy, dy W^T).
 * Shapes the SIMD GEMMs of shared/kernels/kernels.c take (a dense layer's forward pass and both its gradients)
 * go there: no transposes and no packing, where XNNPACK spent longer packing the 8192x128 weights
 * than multiplying. Other transposed products materialise the transposes to reach XNNPACK's GEMM;
 * when the right operand is the big one, computing C^T = B'^T A'^T makes the small one the weights.
 */
function batchMatMul(args: { inputs: { a: TensorInfo; b: TensorInfo }; backend: BackendWasm; attrs: BatchMatMulAttrs }): TensorInfo {
  const { inputs: { a, b }, backend, attrs: { transposeA, transposeB } } = args;
  const original = originalKernel(BatchMatMul).kernelFunc;
  const single = util.sizeFromShape(a.shape.slice(0, -2)) === 1 && util.sizeFromShape(b.shape.slice(0, -2)) === 1;
  if (!single || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length) {
    return original(args as never) as TensorInfo;
  }
  const ra = a.shape.length;
  const outShape = [...a.shape.slice(0, -2), transposeA ? a.shape[ra - 1] : a.shape[ra - 2], transposeB ? b.shape[ra - 2] : b.shape[ra - 1]];
  const direct = directProduct(backend, a, b, transposeA, transposeB, outShape);
  if (direct) return direct;
  if (!transposeA && !transposeB) return original(args as never) as TensorInfo;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = transposeB ? b.shape[ra - 2] : b.shape[ra - 1];
  const straight = (transposeA ? m * k : 0) + (transposeB ? k * n : 0) + PACK_COST * k * n;
  const swapped = (transposeA ? 0 : m * k) + (transposeB ? 0 : k * n) + PACK_COST * k * m + m * n;
  const mm = (x: TensorInfo, y: TensorInfo) => original({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } } as never) as TensorInfo;
  if (straight <= swapped) {
    const aT = transposeA ? swapLast(backend, a) : a;
    const bT = transposeB ? swapLast(backend, b) : b;
    const out = mm(aT, bT);
    if (aT !== a) disposeAll(backend, aT);
    if (bT !== b) disposeAll(backend, bT);
    return out;
  }
  // C^T = op(B)^T op(A)^T, where op(B)^T is B itself when transposeB, and likewise for A.
  const left = transposeB ? b : swapLast(backend, b);
  const right = transposeA ? a : swapLast(backend, a);
  const outT = mm(left, right);
  if (left !== b) disposeAll(backend, left);
  if (right !== a) disposeAll(backend, right);
  const out = swapLast(backend, outT);
  disposeAll(backend, outT);
  return out;
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: BatchMatMul,
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as KernelConfig['kernelFunc'],
};
