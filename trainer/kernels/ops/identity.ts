import { Cast, Identity, type CastAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { originalKernel, type BackendWasm } from '../wasm-ops.ts';

/** A tensor over `x`'s buffer, reference-counted (as wasm's own Reshape and the cpu backend's Identity do). */
function share(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/**
 * Identity sharing the input's buffer instead of copying it. tfjs clones every tensor a gradient
 * saves for the backward pass, so on wasm each training step copied every large activation once more.
 */
function identity(args: { inputs: { x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { inputs: { x }, backend } = args;
  if (x.dtype === 'string') return originalKernel(Identity).kernelFunc(args as never) as TensorInfo;
  return share(backend, x);
}

/**
 * Cast to the dtype a tensor already has, sharing its buffer. The gradient of a clone is such a
 * cast, and tfjs-layers clones a layer's output that is its input: without this, the ReLU layer
 * that passes on a fused batch norm's output (batch-norm.ts) would copy its gradient once a step.
 */
function cast(args: { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: CastAttrs }): TensorInfo {
  const { inputs: { x }, backend, attrs } = args;
  if (x.dtype !== attrs.dtype || x.dtype === 'string') return originalKernel(Cast).kernelFunc(args as never) as TensorInfo;
  return share(backend, x);
}

export const identityConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as KernelConfig['kernelFunc'],
};

export const castConfig: KernelConfig = {
  kernelName: Cast,
  backendName: 'wasm',
  kernelFunc: cast as unknown as KernelConfig['kernelFunc'],
};
