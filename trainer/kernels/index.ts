import { getKernel, registerGradient, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { adamUpdateConfig } from './gradients/adam.ts';
import { batchMatMulConfig } from './ops/batch-mat-mul.ts';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchNormTrainConfig, batchNormTrainGradConfig, useFastBatchNorm } from './ops/batch-norm.ts';
import { batchNormReluPoolTrainConfig, batchNormReluPoolTrainGradConfig } from './ops/batch-norm-pool.ts';
import { conv2dBackpropFilterConfig } from './gradients/conv2d-backprop-filter.ts';
import { conv2dConfig, fusedConv2dConfig } from './ops/conv2d.ts';
import { conv2dBackpropInputConfig } from './gradients/conv2d-backprop-input.ts';
import { castConfig, identityConfig } from './ops/identity.ts';
import { useLeanConvGradients } from './lean-conv.ts';
import { maxPoolGradConfig } from './gradients/max-pool-grad.ts';
import { meanConfig } from './ops/mean.ts';
import { reluGradConfig, reluGradient, shippedReluGradient } from './gradients/relu-grad.ts';
import { sumConfig } from './ops/sum.ts';
import { tileConfig } from './ops/tile.ts';
import { keepOriginal } from './wasm-ops.ts';

/** Gradient kernels tfjs-backend-wasm 4.22 lacks that the project's models need to train. */
export const missingKernels: KernelConfig[] = [conv2dBackpropFilterConfig];

/** Kernels wasm has but runs slowly for training; ours call the original for cases they skip. */
export const fasterKernels: KernelConfig[] = [
  conv2dConfig, fusedConv2dConfig, conv2dBackpropInputConfig, batchMatMulConfig, maxPoolGradConfig, tileConfig, sumConfig, meanConfig, identityConfig, castConfig,
];

/**
 * The project's own kernels, under names of their own, for fused training steps tfjs composes of
 * many small kernels: batch norm (batch-norm.ts) and batch norm + ReLU + max-pool (batch-norm-pool.ts),
 * ReLU's gradient, Adam's update (adam.ts).
 */
export const projectKernels: KernelConfig[] = [
  batchNormTrainConfig, batchNormTrainGradConfig, batchNormReluPoolTrainConfig, batchNormReluPoolTrainGradConfig, reluGradConfig, adamUpdateConfig,
];

interface WasmTrainingKernelsOptions {
  /** Also replace wasm's slow kernels (default true); false registers only the missing ones, for comparison. */
  replace?: boolean;
}

const ours = new Set<KernelConfig['kernelFunc']>([...missingKernels, ...fasterKernels, ...projectKernels].map((k) => k.kernelFunc));

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
  if (options.replace ?? true) {
    for (const config of [...fasterKernels, ...projectKernels]) install(config);
    // Dispatches on the backend at run time: other backends keep tfjs' own ReLU gradient.
    registerGradient(reluGradient());
  }
}

/** Puts wasm's own kernels back in place of our replacements (missing ones stay): for before/after comparisons. */
export function restoreWasmKernels(): void {
  for (const config of fasterKernels) {
    const current = getKernel(config.kernelName, 'wasm');
    if (!current || !ours.has(current.kernelFunc)) continue;
    unregisterKernel(config.kernelName, 'wasm');
    registerKernel(keepOriginal(config.kernelName)!);
  }
  registerGradient(shippedReluGradient());
}

export { fastAdam } from './gradients/adam.ts';

/**
 * Points the model's layers at the kernels above for training on wasm: batch norm on the project's
 * kernels (batch-norm.ts), convolutions without the fused op's wasted input gradient (lean-conv.ts).
 * Each falls back to tfjs-layers' own code on other backends and in inference.
 */
export function prepareModelForTraining(model: tfl.LayersModel): void {
  useFastBatchNorm(model);
  useLeanConvGradients(model);
}
