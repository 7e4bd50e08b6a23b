import { engine, getGradient, Relu, type GradConfig, type KernelConfig, type Tensor, type TensorInfo } from '@tensorflow/tfjs-core';
// tfjs-layers registers tfjs-core's gradients when it loads: loading it here makes sure ReLU's exists
// to fall back on, and is in place before ours replaces it, whatever the program imported first.
import '@tensorflow/tfjs-layers';
import { ptr, simd } from '../simd.ts';
import { makeF32, type BackendWasm } from '../wasm-ops.ts';

/** Project kernel: ReLU's gradient in one pass (dx = dy where x > 0). */
const ReluGrad = 'CellsenseReluGrad';

function reluGrad({ inputs: { dy, x }, backend }: { inputs: { dy: TensorInfo; x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const dx = makeF32(backend, x.shape);
  simd(backend).relu_grad(ptr(backend, dy), ptr(backend, x), ptr(backend, dx), x.shape.reduce((a, b) => a * b, 1));
  return dx;
}

export const reluGradConfig: KernelConfig = {
  kernelName: ReluGrad,
  backendName: 'wasm',
  kernelFunc: reluGrad as unknown as KernelConfig['kernelFunc'],
};

let shipped: GradConfig | undefined;

/** tfjs-core's own ReLU gradient, as registered before ours replaced it. */
export function shippedReluGradient(): GradConfig {
  shipped ??= getGradient(Relu);
  if (!shipped) throw new Error("tfjs-core has no gradient for 'Relu' to build on");
  return shipped;
}

/**
 * ReLU's gradient as tfjs-core defines it composes three kernels (step, cast, multiply), three
 * passes and two temporaries per activation. On wasm this routes it to ReluGrad; on every other
 * backend (gradients are registered for all backends at once) to tfjs' own definition.
 */
export function reluGradient(): GradConfig {
  const original = shippedReluGradient();
  return {
    kernelName: Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      if (engine().backendName !== 'wasm' || x.dtype !== 'float32' || Array.isArray(dy)) return original.gradFunc(dy, saved, attrs);
      return { x: () => engine().runKernel(ReluGrad, { dy, x }) as Tensor };
    },
  };
}
