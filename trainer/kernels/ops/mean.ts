import type { KernelConfig } from '@tensorflow/tfjs-core';
import { leadingAxesReduce } from './sum.ts';

export const meanConfig: KernelConfig = {
  kernelName: 'Mean',
  backendName: 'wasm',
  kernelFunc: leadingAxesReduce('Mean') as unknown as KernelConfig['kernelFunc'],
};
