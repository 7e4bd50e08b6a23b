import * as tf from '@tensorflow/tfjs-core';
import './cpu-backend.ts';
import '@tensorflow/tfjs-backend-wasm';
import type { WasmKernelBuild } from '../../shared/index.ts';
import { FlagError, UserError } from '../errors.ts';

export const backendChoices = ['auto', 'wasm', 'node', 'cpu'] as const;
export type BackendChoice = (typeof backendChoices)[number];

interface BackendInfo {
  /** tfjs backend name in use: `tensorflow` (tfjs-node), `wasm` or `cpu`. */
  name: string;
  /** Why this one, for the log and the manifest. */
  reason: string;
  /** On wasm, the build of the project's kernels (kernels/simd.ts). */
  kernels?: WasmKernelBuild;
}

/** Backends that start in this process, fastest first. */
export async function availableBackends(): Promise<string[]> {
  const names = (await loadNodeBackend()) ? [] : ['tensorflow'];
  return [...names, 'wasm', 'cpu'];
}

/** tfjs-node is optional: absent where its binary download is blocked, or present but broken. */
export async function loadNodeBackend(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs-node' as string);
    return tf.findBackend('tensorflow') ? null : 'the package loaded but registered no backend';
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    return /Cannot find (package|module)/.test(message) ? 'not installed' : message;
  }
}

/** Starts backend `name`; on wasm also the project's gradient kernels, and says which build of them runs. */
export async function activate(name: string): Promise<WasmKernelBuild | undefined> {
  if (!(await tf.setBackend(name))) throw new UserError(`the ${name} backend failed to start`);
  await tf.ready();
  if (name !== 'wasm') return undefined;
  // Loaded only for wasm: the cpu and tensorflow backends have every gradient kernel.
  const { registerWasmTrainingKernels } = await import('../kernels/index.ts');
  const { kernelBuild } = await import('../kernels/simd.ts');
  // Here rather than at the first kernel call: a bad CELLSENSE_WASM_KERNELS stops the run at once.
  const kernels = kernelBuild();
  registerWasmTrainingKernels();
  return kernels;
}

const kernelNote = (kernels: WasmKernelBuild | undefined) =>
  kernels === 'relaxed-simd' ? 'WASM SIMD with fused multiply-add (relaxed SIMD)' : 'WASM SIMD';

/**
 * Starts the training backend: `auto` takes tfjs-node when it loads (fastest, native
 * TensorFlow) and otherwise the WASM SIMD backend with the project's gradient kernels.
 * `cpu` is pure JavaScript: correct but slow, for tests and comparison.
 */
export async function setupBackend(choice: BackendChoice): Promise<BackendInfo> {
  if (!backendChoices.includes(choice)) {
    throw new FlagError('backend', choice, `use one of ${backendChoices.join(', ')}`);
  }
  if (choice === 'auto' || choice === 'node') {
    const problem = await loadNodeBackend();
    if (!problem) {
      await activate('tensorflow');
      return { name: 'tensorflow', reason: '@tensorflow/tfjs-node loaded' };
    }
    if (choice === 'node') {
      throw new UserError(
        `--backend node: @tensorflow/tfjs-node is unavailable (${problem}); install it with \`npm install @tensorflow/tfjs-node\` on a machine that can download libtensorflow, or use --backend wasm`,
      );
    }
    const kernels = await activate('wasm');
    return { name: 'wasm', reason: `@tensorflow/tfjs-node unavailable (${problem}); using ${kernelNote(kernels)}`, kernels };
  }
  const kernels = await activate(choice);
  if (choice !== 'wasm') return { name: choice, reason: `--backend ${choice}` };
  return { name: choice, reason: `--backend wasm (${kernelNote(kernels)})`, kernels };
}
