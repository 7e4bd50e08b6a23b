import { Identity, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { originalKernel, type BackendWasm } from './wasm-ops.ts';

/**
 * Identity sharing the input's buffer (reference-counted, as wasm's own Reshape and the cpu
 * backend's Identity do) instead of copying it. tfjs clones every tensor a gradient saves for the
 * backward pass, so on wasm each training step copied every large activation once more.
 */
function identity(args: { inputs: { x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype === 'string') return originalKernel(Identity).kernelFunc(args as never) as TensorInfo;
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelConfig['kernelFunc'],
};
