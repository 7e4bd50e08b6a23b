import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The C helpers of kernels/kernels.c; pointers are byte offsets into the tfjs heap. */
export interface SimdKernels {
  sum_rows(src: number, rows: number, cols: number, dst: number, scale: number, part: number, total: number): void;
  transpose4(src: number, dst: number, n0: number, n1: number, n2: number, n3: number, s0: number, s1: number, s2: number, s3: number): void;
  patches_by_tap(planes: number, dst: number, nb: number, h: number, w: number, ci: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, top: number, left: number): void;
  gemm_tn(a: number, b: number, c: number, k: number, m: number, n: number): void;
  conv_forward(x: number, w: number, y: number, nb: number, h: number, wd: number, ci: number, oh: number, ow: number, co: number,
    kh: number, kw: number, sh: number, sw: number, top: number, left: number): void;
  conv_filter_grad(x: number, dy: number, dw: number, nb: number, h: number, w: number, ci: number, oh: number, ow: number, co: number,
    kh: number, kw: number, sh: number, sw: number, top: number, left: number): void;
  max_pool_grad(x: number, dy: number, dx: number, nb: number, h: number, w: number, ch: number, oh: number, ow: number,
    kh: number, kw: number, sh: number, sw: number, top: number, left: number, best: number, where: number): void;
  channel_sums(x: number, dy: number, rows: number, cols: number, center: number, mode: 0 | 2, part: number, total: number, gate: number): void;
  bn_forward(x: number, out: number, rows: number, cols: number, mean: number, scale: number, beta: number, relu: 0 | 1): void;
  bn_backward(dy: number, x: number, dx: number, rows: number, cols: number, mean: number, a: number, b: number, d: number, gate: number): void;
  bn_relu_pool(x: number, out: number, xmax: number, where: number, nb: number, h: number, w: number, ch: number,
    mean: number, scale: number, beta: number): void;
  bn_relu_pool_backward(dy: number, out: number, where: number, x: number, dx: number, nb: number, h: number, w: number, ch: number,
    mean: number, a: number, b: number, d: number): void;
  relu_grad(dy: number, x: number, dx: number, n: number): void;
  adam(w: number, g: number, m: number, v: number, w2: number, m2: number, v2: number, n: number,
    b1: number, oneMinusB1: number, b2: number, oneMinusB2: number, c1: number, c2: number, eps: number, negLr: number): void;
  winograd_filter(g: number, u: number, ci: number, co: number): void;
  winograd_conv(x: number, u: number, y: number, v: number, m: number, nb: number, h: number, w: number, ci: number,
    oh: number, ow: number, co: number, top: number, left: number): void;
  winograd_filter_grad(x: number, dy: number, dw: number, v: number, q: number, m: number, nb: number, h: number, w: number, ci: number,
    oh: number, ow: number, co: number, top: number, left: number): void;
  gemm_nn(a: number, b: number, c: number, m: number, n: number, k: number): void;
  gemm_nt(a: number, b: number, c: number, m: number, n: number, k: number): void;
}

interface EmscriptenModule {
  asm: { memory: WebAssembly.Memory };
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

const emscripten = (backend: BackendWasm) => backend.wasm as unknown as EmscriptenModule;

// Per tfjs backend instance (tests start several) and per compiled build (the trainer's tests switch builds).
const instances = new WeakMap<object, Map<WebAssembly.Module, SimdKernels>>();

/**
 * kernels/kernels.c instantiated on this backend's own memory, once per backend and module: the
 * helpers read and write tensors where tfjs keeps them. The module is compiled by the caller
 * (the trainer from the file's bytes, the Worker by a static import, which workerd requires).
 *
 * @example
 * const kernels = kernelsOn(tf.backend() as BackendWasm, kernelsModule);
 * kernels.relu_grad(dy, x, dx, n);
 */
export function kernelsOn(backend: BackendWasm, code: WebAssembly.Module): SimdKernels {
  const module = emscripten(backend);
  let byCode = instances.get(module);
  if (!byCode) instances.set(module, (byCode = new Map()));
  const cached = byCode.get(code);
  if (cached) return cached;
  const memory = module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('the tfjs wasm backend does not expose its memory (asm.memory); is it tfjs-backend-wasm 4.22?');
  const kernels = new WebAssembly.Instance(code, { env: { memory } }).exports as unknown as SimdKernels;
  byCode.set(code, kernels);
  return kernels;
}

/**
 * Byte offset of a tensor's data in the tfjs heap.
 *
 * @example
 * kernels.relu_grad(ptr(backend, dy), ptr(backend, x), ptr(backend, dx), dx.shape[0]);
 */
export function ptr(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/**
 * Runs `fn` with `bytes` of heap scratch space, freed afterwards.
 *
 * @example
 * withScratch(backend, 4 * n, (at) => kernels.sum_rows(src, rows, n, at, 1, 0, 1));
 */
export function withScratch<T>(backend: BackendWasm, bytes: number, fn: (at: number) => T): T {
  const module = emscripten(backend);
  const at = module._malloc(Math.max(bytes, 16)) >>> 0;
  try {
    return fn(at);
  } finally {
    module._free(at);
  }
}

/**
 * A float32 view of `count` values at byte offset `at` of the heap. Take it after every allocation (growth detaches it).
 *
 * @example
 * scratchF32(backend, at, co).fill(1);
 */
export function scratchF32(backend: BackendWasm, at: number, count: number): Float32Array {
  return new Float32Array(emscripten(backend).HEAPU8.buffer, at, count);
}

/**
 * A float64 view of `count` values at byte offset `at` of the heap. Take it after every allocation.
 *
 * @example
 * const sums = heapF64(backend, at, cols);
 */
export function heapF64(backend: BackendWasm, at: number, count: number): Float64Array {
  return new Float64Array(emscripten(backend).HEAPU8.buffer, at, count);
}
