import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch-mat-mul.ts';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.ts';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.ts';
import { maxPoolGradConfig } from './max-pool-grad.ts';
import { meanConfig } from './mean.ts';
import { sumConfig } from './sum.ts';
import { tileConfig } from './tile.ts';
import { keepOriginal } from './wasm-ops.ts';

/** Gradient kernels tfjs-backend-wasm 4.22 lacks that the project's models need to train. */
export const missingKernels: KernelConfig[] = [conv2dBackpropFilterConfig];

/** Kernels wasm has but runs slowly for training; ours call the original for cases they skip. */
export const fasterKernels: KernelConfig[] = [
  conv2dBackpropInputConfig, batchMatMulConfig, maxPoolGradConfig, tileConfig, sumConfig, meanConfig,
];

export interface WasmTrainingKernelsOptions {
  /** Also replace wasm's slow kernels (default true); false registers only the missing ones, for comparison. */
  replace?: boolean;
}

const ours = new Set<KernelConfig['kernelFunc']>([...missingKernels, ...fasterKernels].map((k) => k.kernelFunc));

function install(config: KernelConfig): void {
  const existing = getKernel(config.kernelName, 'wasm');
  if (existing && ours.has(existing.kernelFunc)) return;
  if (existing) {
    keepOriginal(config.kernelName);
    unregisterKernel(config.kernelName, 'wasm');
  }
  // The shipped kernel's setup (its cwrap of the C function) must still run if the backend
  // initialises after this, since ours calls into it.
  registerKernel({ ...config, setupFunc: existing?.setupFunc });
}

/**
 * Registers the project's gradient kernels for the `wasm` backend. Idempotent; call after
 * `tf.setBackend('wasm')` and `tf.ready()` so the originals being replaced are already set up.
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelsOptions = {}): void {
  for (const config of missingKernels) install(config);
  if (options.replace ?? true) for (const config of fasterKernels) install(config);
}

/** Puts wasm's own kernels back in place of our replacements (missing ones stay): for before/after comparisons. */
export function restoreWasmKernels(): void {
  for (const config of fasterKernels) {
    const current = getKernel(config.kernelName, 'wasm');
    if (!current || !ours.has(current.kernelFunc)) continue;
    unregisterKernel(config.kernelName, 'wasm');
    registerKernel(keepOriginal(config.kernelName)!);
  }
}
