import * as tf from '@tensorflow/tfjs-core';
import { ptr, simd } from '../simd.ts';
import { makeF32, type BackendWasm } from '../wasm-ops.ts';

/** Project kernel: one Adam update of a weight tensor, all in one pass; outputs [w, m, v]. */
const AdamUpdate = 'CellsenseAdamUpdate';

interface AdamAttrs {
  beta1: number;
  beta2: number;
  /** 1 - beta1^t and 1 - beta2^t, the bias corrections. */
  c1: number;
  c2: number;
  epsilon: number;
  learningRate: number;
}

function adamUpdate(args: { inputs: Record<'w' | 'g' | 'm' | 'v', tf.TensorInfo>; backend: BackendWasm; attrs: AdamAttrs }): tf.TensorInfo[] {
  const { inputs: { w, g, m, v }, backend, attrs: a } = args;
  const outs = [w, m, v].map((t) => makeF32(backend, t.shape));
  const n = w.shape.reduce((x, y) => x * y, 1);
  const [w2, m2, v2] = outs.map((t) => ptr(backend, t));
  simd(backend).adam(ptr(backend, w), ptr(backend, g), ptr(backend, m), ptr(backend, v), w2, m2, v2, n,
    a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.c1, a.c2, a.epsilon, -a.learningRate);
  return outs;
}

export const adamUpdateConfig: tf.KernelConfig = {
  kernelName: AdamUpdate,
  backendName: 'wasm',
  kernelFunc: adamUpdate as unknown as tf.KernelConfig['kernelFunc'],
};

/** AdamOptimizer's private state, read here to update it in place of the base class. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/**
 * tfjs' Adam, with each weight's update as one kernel on wasm: tfjs composes it of eleven
 * elementwise ops, eleven passes over every weight (the tutorial CNN has 1.1 M). Same
 * arithmetic in the same float32 order; same state, so checkpoints and `getWeights` are unchanged.
 * Other backends run the base class.
 */
class FastAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (tf.getBackend() !== 'wasm') return super.applyGradients(variableGradients);
    const state = this as unknown as AdamState;
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const c1 = 1 - state.accBeta1.dataSync()[0];
    const c2 = 1 - state.accBeta2.dataSync()[0];
    tf.tidy(() => {
      list.forEach(({ name, tensor: gradient }, i) => {
        const value = tf.engine().registeredVariables[name];
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i].variable;
        const v = state.accumulatedSecondMoment[i].variable;
        const [w2, m2, v2] = tf.engine().runKernel(AdamUpdate, { w: value, g: gradient, m, v }, {
          beta1: this.beta1, beta2: this.beta2, c1, c2, epsilon: this.epsilon, learningRate: this.learningRate,
        } as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(w2);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** `tf.train.adam` with the one-pass update on wasm. */
export function fastAdam(learningRate: number): tf.AdamOptimizer {
  return new FastAdamOptimizer(learningRate, 0.9, 0.999);
}
