import type * as tfl from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';

type Layer = tfl.LayersModel['layers'][number];
type Named = { name: string; getClassName(): string };
type Config = Record<string, unknown>;
type Fused = 'linear' | 'relu';

/**
 * A model's forward pass as a few tfjs ops on tensors made once at load time: what
 * `model.predict` returns (the last layer's output, one row per image), for inputs of the
 * model's input shape. Each batch-normalised conv is one fused conv with its ReLU.
 */
export type ForwardPlan = ((x: tf.Tensor4D) => tf.Tensor2D) & {
  /** Bytes of the tensors the plan made (folded kernels and biases); the rest are the model's own weights. */
  bytes: number;
  /** Frees the plan's own tensors; the model's weights stay with the model. */
  dispose(): void;
};

export interface CompileOptions {
  /** Told why a model gets no plan (an unsupported layer or setting). */
  onUnsupported?(reason: string): void;
}

class Unsupported extends Error {}

// A conv or dense layer still open to absorbing what follows it (batch norm, an activation).
interface Affine {
  kind: 'conv' | 'dense';
  layer: Layer;
  weight: tf.Tensor;
  bias: tf.Tensor | null;
  activation: Fused;
  strides: [number, number];
  pad: 'same' | 'valid';
}
type Op = Affine | { kind: 'op'; run: (h: tf.Tensor) => tf.Tensor };

const pair = (value: unknown): [number, number] => (Array.isArray(value) ? [value[0], value[1]] : [value as number, value as number]);

function check(condition: unknown, layer: Named, what: string): asserts condition {
  if (!condition) throw new Unsupported(`${layer.name} (${layer.getClassName()}): ${what}`);
}

/** The layer's weights by their short name (kernel, bias, gamma, ...), checked against what is expected. */
function weightsOf(layer: Layer, allowed: string[]): Map<string, tf.Tensor> {
  const weights = new Map(layer.weights.map((w) => [w.originalName.split('/').pop()!, w.read() as tf.Tensor]));
  for (const name of weights.keys()) check(allowed.includes(name), layer, `unexpected weight "${name}"`);
  return weights;
}

function spatial(layer: Layer, config: Config, rank: number): 'same' | 'valid' {
  check(rank === 4, layer, `expects image-shaped input, gets rank ${rank}`);
  check(config.dataFormat === 'channelsLast', layer, `data format ${String(config.dataFormat)}`);
  check(config.padding === 'same' || config.padding === 'valid', layer, `padding ${String(config.padding)}`);
  return config.padding;
}

function fusedActivation(layer: Layer, activation: unknown): Fused {
  check(activation === 'linear' || activation === 'relu', layer, `activation ${String(activation)}`);
  return activation;
}

/** Folds inference-mode batch norm into the conv before it: w*s and (b - mean)*s + beta, s = gamma/sqrt(var + eps). */
function foldBatchNorm(conv: Affine, layer: Layer, config: Config, owned: tf.Tensor[]): void {
  check(config.axis === -1 || config.axis === 3, layer, `axis ${String(config.axis)}`);
  check(typeof config.epsilon === 'number', layer, 'no epsilon');
  const w = weightsOf(layer, ['gamma', 'beta', 'moving_mean', 'moving_variance']);
  const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((name) => w.get(name));
  check(mean && variance, layer, 'no moving statistics');
  check(Boolean(gamma) === Boolean(config.scale) && Boolean(beta) === Boolean(config.center), layer, 'weights do not match its scale/center flags');
  const [weight, bias] = tf.tidy(() => {
    const inverse = tf.rsqrt(tf.add(variance, config.epsilon as number));
    const scale = gamma ? tf.mul(gamma, inverse) : inverse;
    const shifted = tf.mul(conv.bias ? tf.sub(conv.bias, mean) : tf.neg(mean), scale);
    return [tf.mul(conv.weight, scale), beta ? tf.add(shifted, beta) : shifted];
  });
  owned.push(weight, bias);
  conv.weight = weight;
  conv.bias = bias;
}

function compile(model: tfl.LayersModel, owned: tf.Tensor[]): Op[] {
  check(model.getClassName() === 'Sequential', model, 'only Sequential models are walked');
  check(model.inputs.length === 1 && model.outputs.length === 1 && model.inputs[0].shape.length === 4, model, 'not one image input and one output');
  const ops: Op[] = [];
  let rank = 4;
  model.layers.forEach((layer, i) => {
    const config = layer.getConfig() as Config;
    const last = ops.at(-1);
    const open = last && last.kind !== 'op' ? last : undefined;
    switch (layer.getClassName()) {
      case 'InputLayer':
      case 'Dropout':
        return; // Dropout is the identity at inference.
      case 'Conv2D': {
        const pad = spatial(layer, config, rank);
        check(pair(config.dilationRate).every((d) => d === 1), layer, `dilation ${String(config.dilationRate)}`);
        const w = weightsOf(layer, ['kernel', 'bias']);
        check(w.get('kernel')?.rank === 4 && w.has('bias') === Boolean(config.useBias), layer, 'weights do not match its config');
        const activation = fusedActivation(layer, config.activation);
        ops.push({ kind: 'conv', layer, weight: w.get('kernel')!, bias: w.get('bias') ?? null, activation, strides: pair(config.strides), pad });
        return;
      }
      case 'BatchNormalization':
        check(rank === 4 && open?.kind === 'conv' && open.layer === model.layers[i - 1], layer, 'batch norm not directly after a conv');
        check(open.activation === 'linear', layer, 'batch norm after an activated conv');
        foldBatchNorm(open, layer, config, owned);
        return;
      case 'Activation': {
        const { activation } = config;
        if (activation === 'linear') return;
        if (activation === 'relu' && open?.activation === 'linear') open.activation = 'relu';
        else if (activation === 'relu') ops.push({ kind: 'op', run: (h) => tf.relu(h) });
        else if (activation === 'softmax') ops.push({ kind: 'op', run: (h) => tf.softmax(h) });
        else check(false, layer, `activation ${String(activation)}`);
        return;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pad = spatial(layer, config, rank);
        const [size, strides] = [pair(config.poolSize), pair(config.strides ?? config.poolSize)];
        const pool = layer.getClassName() === 'MaxPooling2D' ? tf.maxPool : tf.avgPool;
        ops.push({ kind: 'op', run: (h) => pool(h as tf.Tensor4D, size, strides, pad) });
        return;
      }
      case 'GlobalAveragePooling2D':
        check(rank === 4 && config.dataFormat === 'channelsLast', layer, `data format ${String(config.dataFormat)}`);
        ops.push({ kind: 'op', run: (h) => tf.mean(h, [1, 2]) });
        rank = 2;
        return;
      case 'Flatten':
        // Only channels_first transposes before flattening; unset means channels_last here.
        check(config.dataFormat === undefined || config.dataFormat === 'channelsLast', layer, `data format ${String(config.dataFormat)}`);
        ops.push({ kind: 'op', run: (h) => tf.reshape(h, [h.shape[0], -1]) });
        rank = 2;
        return;
      case 'Dense': {
        check(rank === 2, layer, `dense on rank ${rank} input`);
        const w = weightsOf(layer, ['kernel', 'bias']);
        check(w.get('kernel')?.rank === 2 && w.has('bias') === Boolean(config.useBias), layer, 'weights do not match its config');
        const softmax = config.activation === 'softmax';
        const activation = softmax ? 'linear' : fusedActivation(layer, config.activation);
        ops.push({ kind: 'dense', layer, weight: w.get('kernel')!, bias: w.get('bias') ?? null, activation, strides: [1, 1], pad: 'valid' });
        if (softmax) ops.push({ kind: 'op', run: (h) => tf.softmax(h) });
        return;
      }
      default:
        check(false, layer, 'layer type not supported');
    }
  });
  check(rank === 2 && ops.length, model, 'output is not one row per image');
  return ops;
}

function toStep(op: Op): (h: tf.Tensor) => tf.Tensor {
  if (op.kind === 'op') return op.run;
  const { weight, bias, activation, strides, pad } = op;
  if (op.kind === 'dense') return (h) => tf.fused.matMul({ a: h as tf.Tensor2D, b: weight as tf.Tensor2D, bias: bias ?? undefined, activation });
  return (h) => tf.fused.conv2d({ x: h as tf.Tensor4D, filter: weight as tf.Tensor4D, bias: bias ?? undefined, activation, strides, pad });
}

/**
 * Compiles a Sequential model into a {@link ForwardPlan}, folding each Conv2D + BatchNormalization
 * (+ ReLU) into one fused conv and each Dense + ReLU into one fused matMul, so that work is done
 * once here rather than in every request. Returns null for a layer or setting it does not know
 * (then `model.predict` is the way to run it). The plan shares the model's unfolded weights:
 * dispose the plan with the model, not after it.
 *
 * @example
 * const plan = compileForward(model);
 * const probabilities = tf.tidy(() => (plan ? plan(x) : (model.predict(x) as tf.Tensor)));
 */
export function compileForward(model: tfl.LayersModel, options: CompileOptions = {}): ForwardPlan | null {
  const owned: tf.Tensor[] = [];
  let steps: ((h: tf.Tensor) => tf.Tensor)[];
  try {
    steps = compile(model, owned).map(toStep);
  } catch (error) {
    tf.dispose(owned);
    if (!(error instanceof Unsupported)) throw error;
    options.onUnsupported?.(error.message);
    return null;
  }
  const run = (x: tf.Tensor4D) => tf.tidy(() => steps.reduce<tf.Tensor>((h, step) => step(h), x) as tf.Tensor2D);
  return Object.assign(run, {
    bytes: owned.reduce((n, t) => n + t.size * 4, 0),
    dispose: () => tf.dispose(owned),
  });
}
