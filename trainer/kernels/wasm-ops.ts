import { getKernel, type KernelConfig, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ptr, simd } from './simd.ts';

export type { BackendWasm };

/** Kernels the wasm backend ships, looked up once and kept: a replaced kernel still reaches its original. */
const originals = new Map<string, KernelConfig>();

/** The wasm backend's own kernel `name`, even after one of ours replaced it in the registry. */
export function originalKernel(name: string): KernelConfig {
  let config = originals.get(name);
  if (!config) {
    config = getKernel(name, 'wasm');
    if (!config) throw new Error(`the wasm backend has no '${name}' kernel to build on; is @tensorflow/tfjs-backend-wasm 4.22 loaded?`);
    originals.set(name, config);
  }
  return config;
}

/** Remembers the shipped kernel before it is unregistered, so `originalKernel` can still find it. */
export function keepOriginal(name: string): KernelConfig | undefined {
  const existing = originals.get(name) ?? getKernel(name, 'wasm');
  if (existing) originals.set(name, existing);
  return existing;
}

/** Runs a wasm kernel directly (no tape, no engine bookkeeping): the caller disposes what it gets. */
export function run(backend: BackendWasm, name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  return originalKernel(name).kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

export function disposeAll(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

export function transpose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return run(backend, 'Transpose', { x }, { perm });
}

/** Explicit per-side padding in the form Conv2D's `pad` attribute takes. */
export function explicitPad(top: number, bottom: number, left: number, right: number): NamedAttrMap['pad'] {
  return [[0, 0], [top, bottom], [left, right], [0, 0]] as unknown as NamedAttrMap['pad'];
}

/** x [n, h, w, c] with zero rows and columns added around each image. */
export function padSpatial(backend: BackendWasm, x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
  return run(backend, 'PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 });
}

/** A Float32Array over a tensor's bytes in the wasm heap. Take it after every allocation: growth detaches it. */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export function makeF32(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/**
 * Merges neighbouring axes that stay neighbours under `perm` (they move as one block) and pads to
 * rank 4, so every transpose becomes one 4-deep loop. Returns input shape and perm of the result.
 */
function collapse(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  const byInputOrder = [...groups].sort((a, b) => a[0] - b[0]);
  const cShape = byInputOrder.map((g) => g.reduce((n, a) => n * shape[a], 1));
  const cPerm = groups.map((g) => byInputOrder.indexOf(g));
  while (cShape.length < 4) {
    cShape.unshift(1);
    for (let i = 0; i < cPerm.length; i++) cPerm[i]++;
    cPerm.unshift(0);
  }
  return { shape: cShape, perm: cPerm };
}

/** Transpose on the SIMD helper module: wasm's own runs 5-50x slower for 4-D batch/spatial swaps. */
export function fastTranspose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  const out = makeF32(backend, perm.map((a) => x.shape[a]));
  const c = collapse(x.shape, perm);
  if (c.shape.length > 4) throw new Error(`transpose of rank ${x.shape.length} with perm [${perm}] does not collapse to rank 4`);
  const inStrides = [c.shape[1] * c.shape[2] * c.shape[3], c.shape[2] * c.shape[3], c.shape[3], 1];
  const [n0, n1, n2, n3] = c.perm.map((a) => c.shape[a]);
  const [s0, s1, s2, s3] = c.perm.map((a) => inStrides[a]);
  simd(backend).transpose4(ptr(backend, x), ptr(backend, out), n0, n1, n2, n3, s0, s1, s2, s3);
  return out;
}
