import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { wasmKernelBuilds, type WasmKernelBuild } from '../../shared/index.ts';
import { UserError } from '../errors.ts';
import type { BackendWasm } from './wasm-ops.ts';

/** The C helpers of simd/kernels.c; pointers are byte offsets into the tfjs heap. */
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

/** Set to `simd128` to train on the plain build (to compare, or on a runtime that mishandles relaxed SIMD). */
export const KERNEL_BUILD_VARIABLE = 'CELLSENSE_WASM_KERNELS';

/**
 * The two builds of simd/kernels.c (named in shared/manifest.ts: the manifest records which one
 * trained). `relaxed-simd` multiplies and adds in one instruction (relaxed SIMD's madd, an FMA on
 * x86-64 and arm64): the convolutions run 15-20% faster than on `simd128`, which needs only the
 * SIMD every wasm runtime here has.
 */
const files: Record<WasmKernelBuild, string> = { 'relaxed-simd': './simd/kernels-relaxed.wasm', simd128: './simd/kernels.wasm' };
const bytesOf = (build: WasmKernelBuild) => readFileSync(new URL(files[build], import.meta.url));

let relaxedCompiles: boolean | undefined;

/**
 * Whether this runtime compiles relaxed SIMD (decided once). Node 22 (V8 11.4+) does by default; Node 20 has it
 * complete but behind a V8 flag, which is turned on here before anything is compiled with it: the
 * flag only admits the instructions, and the module is validated afterwards either way.
 */
function relaxedSimdCompiles(): boolean {
  if (relaxedCompiles === undefined) {
    const relaxed = bytesOf('relaxed-simd');
    if (!WebAssembly.validate(relaxed)) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedCompiles = WebAssembly.validate(relaxed);
  }
  return relaxedCompiles;
}

/**
 * The build for a CELLSENSE_WASM_KERNELS value: the one named, else `relaxed-simd` where it compiles.
 *
 * @example
 * chooseKernelBuild(process.env.CELLSENSE_WASM_KERNELS); // 'relaxed-simd'
 */
export function chooseKernelBuild(wanted: string | undefined): WasmKernelBuild {
  if (wanted && !wasmKernelBuilds.includes(wanted as WasmKernelBuild)) {
    throw new UserError(`${KERNEL_BUILD_VARIABLE}=${wanted} is not a kernel build: use ${wasmKernelBuilds.join(' or ')}, or unset it to let the trainer choose`);
  }
  return (wanted as WasmKernelBuild | undefined) || (relaxedSimdCompiles() ? 'relaxed-simd' : 'simd128');
}

let chosen: WasmKernelBuild | undefined;

/** The build the kernels run on in this process, decided once (replicas in worker threads decide the same). */
export function kernelBuild(): WasmKernelBuild {
  return (chosen ??= chooseKernelBuild(process.env[KERNEL_BUILD_VARIABLE]));
}

/** Switches every backend to `build` from its next kernel call on (tests run each build). */
export function useKernelBuild(build: WasmKernelBuild): void {
  if (build === 'relaxed-simd' && !relaxedSimdCompiles()) throw new Error('relaxed SIMD does not compile on this runtime');
  chosen = build;
}

const compiled = new Map<WasmKernelBuild, WebAssembly.Module>();
const instances = new WeakMap<object, { build: WasmKernelBuild; kernels: SimdKernels }>();

/**
 * The helpers instantiated on this backend's own memory (once per wasm backend instance and
 * build): JS loops over heap views run at ~3 ns an element on this kind of machine, these at ~0.3.
 */
export function simd(backend: BackendWasm): SimdKernels {
  const module = backend.wasm as unknown as EmscriptenModule;
  const build = kernelBuild();
  const cached = instances.get(module);
  if (cached?.build === build) return cached.kernels;
  let code = compiled.get(build);
  if (!code) compiled.set(build, (code = new WebAssembly.Module(bytesOf(build))));
  const memory = module.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('the tfjs wasm backend does not expose its memory (asm.memory); is it tfjs-backend-wasm 4.22?');
  const kernels = new WebAssembly.Instance(code, { env: { memory } }).exports as unknown as SimdKernels;
  instances.set(module, { build, kernels });
  return kernels;
}

/** Byte offset of a tensor's data in the tfjs heap. */
export function ptr(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/** Runs `fn` with `bytes` of heap scratch space, freed afterwards. */
export function withScratch<T>(backend: BackendWasm, bytes: number, fn: (at: number) => T): T {
  const module = backend.wasm as unknown as EmscriptenModule;
  const at = module._malloc(Math.max(bytes, 16)) >>> 0;
  try {
    return fn(at);
  } finally {
    module._free(at);
  }
}

/** A float64 view of `count` values at byte offset `at` of the heap. Take it after every allocation. */
export function heapF64(backend: BackendWasm, at: number, count: number): Float64Array {
  return new Float64Array((backend.wasm as unknown as EmscriptenModule).HEAPU8.buffer, at, count);
}

/** A float32 view of `count` values at byte offset `at` of the heap. Take it after every allocation. */
export function scratchF32(backend: BackendWasm, at: number, count: number): Float32Array {
  return new Float32Array((backend.wasm as unknown as EmscriptenModule).HEAPU8.buffer, at, count);
}
