import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
// workerd refuses to compile wasm from bytes at run time; a static import is compiled at
// upload/bundle time and arrives as a WebAssembly.Module (see patches/ for how tfjs takes it).
import simdModule from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
// The project's SIMD kernels (shared/kernels/kernels.c), plain-SIMD build: the relaxed-SIMD one
// would multiply-add 15-20% faster, but a runtime without relaxed SIMD would refuse the whole
// script at upload, where this build needs only the SIMD the tfjs binary above needs anyway.
import kernelsModule from '../../shared/kernels/kernels.wasm';
import { kernelsOn, winogradFusedConv2D } from '../../shared/index.ts';
import { HttpError } from '../errors.ts';

interface BackendInfo {
  name: string;
  simd: boolean;
  threads: boolean;
  tfjsVersion: string;
  /** Which kernels run the 3x3 convolutions: `winograd` (the project's, where they apply) or `xnnpack` (tfjs's). */
  convolutions: 'winograd' | 'xnnpack';
}

let ready: Promise<BackendInfo> | undefined;

async function setUp(): Promise<BackendInfo> {
  // No Web Workers in workerd, so the threaded binary can never run.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  if (!simd) {
    throw new HttpError('backend_unavailable', 'this runtime has no WebAssembly SIMD; the wasm backend is built for it');
  }
  // Only the SIMD binary is bundled; setWasmPaths insists on an entry for every binary name.
  const module = simdModule as unknown as string;
  setWasmPaths({
    'tfjs-backend-wasm.wasm': module,
    'tfjs-backend-wasm-simd.wasm': module,
    'tfjs-backend-wasm-threaded-simd.wasm': module,
  });
  const ok = await tf.setBackend('wasm');
  // Never fall back silently to a slower backend: refuse to classify instead.
  if (!ok || tf.getBackend() !== 'wasm') {
    throw new HttpError('backend_unavailable', `the wasm backend did not start (active: ${tf.getBackend() ?? 'none'})`);
  }
  useWinogradConvolutions();
  return {
    name: tf.getBackend(),
    simd: Boolean(tf.env().get('WASM_HAS_SIMD_SUPPORT')),
    threads: Boolean(tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT')),
    tfjsVersion: tf.version_core,
    convolutions: winogradInstalled ? 'winograd' : 'xnnpack',
  };
}

let winogradInstalled = false;

/**
 * Runs the Winograd-eligible convolutions (3x3, stride 1, 8+ input channels: all but a network's
 * first) on the project's kernels, the others on tfjs's own. Once per isolate, after the backend
 * is up (the original kernel's setup has run, and stays the fallback).
 */
function useWinogradConvolutions(): void {
  if (winogradInstalled) return;
  const original = tf.getKernel(tf.FusedConv2D, 'wasm');
  if (!original) throw new HttpError('backend_unavailable', 'the wasm backend has no FusedConv2D kernel');
  tf.unregisterKernel(tf.FusedConv2D, 'wasm');
  // A served version's weights never change: each filter's Winograd transform is made once, at load.
  tf.registerKernel(winogradFusedConv2D((backend: BackendWasm) => kernelsOn(backend, kernelsModule), original, { constantFilters: true }));
  winogradInstalled = true;
}

/**
 * Starts the tfjs wasm backend once per isolate and reports what runs. A failed start is
 * not cached, so the next request tries again.
 *
 * @example
 * const info = await ensureBackend(); // { name: 'wasm', simd: true, threads: false, ... }
 */
export function ensureBackend(): Promise<BackendInfo> {
  ready ??= setUp().catch((error) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

export { tf };
