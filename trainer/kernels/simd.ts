import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { kernelsOn, wasmKernelBuilds, type SimdKernels, type WasmKernelBuild } from '../../shared/index.ts';
import { UserError } from '../errors.ts';
import type { BackendWasm } from './wasm-ops.ts';

/** Set to `simd128` to train on the plain build (to compare, or on a runtime that mishandles relaxed SIMD). */
export const KERNEL_BUILD_VARIABLE = 'CELLSENSE_WASM_KERNELS';

/**
 * The two builds of shared/kernels/kernels.c (named in shared/manifest.ts: the manifest records which one
 * trained). `relaxed-simd` multiplies and adds in one instruction (relaxed SIMD's madd, an FMA on
 * x86-64 and arm64): the convolutions run 15-20% faster than on `simd128`, which needs only the
 * SIMD every wasm runtime here has.
 */
const files: Record<WasmKernelBuild, string> = { 'relaxed-simd': '../../shared/kernels/kernels-relaxed.wasm', simd128: '../../shared/kernels/kernels.wasm' };
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

/**
 * The helpers instantiated on this backend's own memory (once per wasm backend instance and
 * build): JS loops over heap views run at ~3 ns an element on this kind of machine, these at ~0.3.
 */
export function simd(backend: BackendWasm): SimdKernels {
  const build = kernelBuild();
  let code = compiled.get(build);
  if (!code) compiled.set(build, (code = new WebAssembly.Module(bytesOf(build))));
  return kernelsOn(backend, code);
}

export { heapF64, ptr, scratchF32, withScratch } from '../../shared/index.ts';
