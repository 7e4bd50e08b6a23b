import * as tf from '@tensorflow/tfjs-core';

type Config = Record<string, unknown>;
type Fused = 'linear' | 'relu';

/** One layer of a saved Keras/tfjs-layers topology (`model.json`'s `modelTopology`), with its weights. */
interface Layer {
  className: string;
  name: string;
  config: Config;
}

/**
 * A model's forward pass as a few tfjs ops on tensors made once at load time: what
 * `model.predict` returns (the last layer's output, one row per image), for inputs of the
 * model's input shape. Each batch-normalised conv is one fused conv with its ReLU.
 */
export type ForwardPlan = ((x: tf.Tensor4D) => tf.Tensor2D) & {
  /** Height, width and channels of one input image, from the topology. */
  inputShape: [number, number, number];
  /** Bytes of the tensors the plan holds (the weights it runs on, batch norm already folded in). */
  bytes: number;
  /** Its convolutions' filter shapes and strides, for what a backend's kernels keep per filter (the Worker's Winograd transforms). */
  convs: { filterShape: number[]; strides: [number, number] }[];
  /**
   * The output with the features the last dense layer reads (the pooled activations), from one
   * pass; for the domain profile's feature check. Call inside `tf.tidy`.
   */
  withFeatures(x: tf.Tensor4D): { features: tf.Tensor2D; output: tf.Tensor2D };
  /** Frees every tensor the plan holds. */
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

function check(condition: unknown, layer: { name: string; className: string }, what: string): asserts condition {
  if (!condition) throw new Unsupported(`${layer.name} (${layer.className}): ${what}`);
}

/** Takes the layer's weights (kernel, bias, gamma, ...) out of `weights`, checked against what is expected. */
function weightsOf(layer: Layer, weights: Map<string, tf.Tensor>, allowed: string[]): Map<string, tf.Tensor> {
  const own = new Map<string, tf.Tensor>();
  for (const [name, tensor] of weights) {
    if (!name.startsWith(`${layer.name}/`)) continue;
    const short = name.slice(layer.name.length + 1);
    check(allowed.includes(short), layer, `unexpected weight "${short}"`);
    own.set(short, tensor);
    weights.delete(name);
  }
  return own;
}

function spatial(layer: Layer, rank: number): 'same' | 'valid' {
  const { config } = layer;
  check(rank === 4, layer, `expects image-shaped input, gets rank ${rank}`);
  check(config.data_format === 'channels_last', layer, `data format ${String(config.data_format)}`);
  check(config.padding === 'same' || config.padding === 'valid', layer, `padding ${String(config.padding)}`);
  return config.padding;
}

function fusedActivation(layer: Layer, activation: unknown): Fused {
  check(activation === 'linear' || activation === 'relu', layer, `activation ${String(activation)}`);
  return activation;
}

/**
 * Folds inference-mode batch norm into the conv before it: w*s and (b - mean)*s + beta, s =
 * gamma/sqrt(var + eps). Done on the typed arrays rather than with tfjs ops: on a cold isolate
 * each op's first call costs more than this whole loop.
 */
function foldBatchNorm(conv: Affine, layer: Layer, weights: Map<string, tf.Tensor>, made: tf.Tensor[]): void {
  const { config } = layer;
  check(config.axis === -1 || config.axis === 3, layer, `axis ${String(config.axis)}`);
  check(typeof config.epsilon === 'number', layer, 'no epsilon');
  const w = weightsOf(layer, weights, ['gamma', 'beta', 'moving_mean', 'moving_variance']);
  const [gamma, beta, mean, variance] = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((name) => w.get(name)?.dataSync());
  check(mean && variance, layer, 'no moving statistics');
  check(Boolean(gamma) === Boolean(config.scale) && Boolean(beta) === Boolean(config.center), layer, 'weights do not match its scale/center flags');
  const units = conv.weight.shape.at(-1)!;
  check([gamma, beta, mean, variance].every((t) => !t || t.length === units), layer, `statistics for other than ${units} channels`);
  const epsilon = config.epsilon as number;
  const bias = conv.bias?.dataSync();
  const scale = new Float64Array(units);
  const shifted = new Float32Array(units);
  for (let c = 0; c < units; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + epsilon);
    shifted[c] = ((bias ? bias[c] : 0) - mean[c]) * scale[c] + (beta ? beta[c] : 0);
  }
  const folded = new Float32Array(conv.weight.dataSync());
  for (let i = 0, c = 0; i < folded.length; i++, c = c + 1 === units ? 0 : c + 1) folded[i] *= scale[c];
  conv.weight = tf.tensor(folded, conv.weight.shape);
  conv.bias = tf.tensor1d(shifted);
  made.push(conv.weight, conv.bias);
}

/** The Sequential layers of a saved topology and the shape of one input image. */
function layersOf(topology: unknown): { layers: Layer[]; inputShape: [number, number, number] } {
  const model = { name: 'model', className: String((topology as { class_name?: unknown })?.class_name) };
  const config = (topology as { config?: { layers?: unknown } }).config;
  check(model.className === 'Sequential' && Array.isArray(config?.layers), model, 'only Sequential models are walked');
  const layers = (config.layers as { class_name: string; config: Config }[]).map((l) => ({ className: l.class_name, name: String(l.config?.name), config: l.config ?? {} }));
  const shape = layers[0]?.config.batch_input_shape;
  check(Array.isArray(shape) && shape.length === 4 && shape.slice(1).every((n) => Number.isInteger(n) && n > 0), model, 'not one image input');
  return { layers, inputShape: [shape[1], shape[2], shape[3]] };
}

function compile(layers: Layer[], weights: Map<string, tf.Tensor>, made: tf.Tensor[]): Op[] {
  const ops: Op[] = [];
  let rank = 4;
  layers.forEach((layer, i) => {
    const { config } = layer;
    const last = ops.at(-1);
    const open = last && last.kind !== 'op' ? last : undefined;
    switch (layer.className) {
      case 'InputLayer':
      case 'Dropout':
        return; // Dropout is the identity at inference.
      case 'Conv2D': {
        const pad = spatial(layer, rank);
        check(pair(config.dilation_rate).every((d) => d === 1), layer, `dilation ${String(config.dilation_rate)}`);
        const w = weightsOf(layer, weights, ['kernel', 'bias']);
        check(w.get('kernel')?.rank === 4 && w.has('bias') === Boolean(config.use_bias), layer, 'weights do not match its config');
        const activation = fusedActivation(layer, config.activation);
        ops.push({ kind: 'conv', layer, weight: w.get('kernel')!, bias: w.get('bias') ?? null, activation, strides: pair(config.strides), pad });
        return;
      }
      case 'BatchNormalization':
        check(rank === 4 && open?.kind === 'conv' && open.layer === layers[i - 1], layer, 'batch norm not directly after a conv');
        check(open.activation === 'linear', layer, 'batch norm after an activated conv');
        foldBatchNorm(open, layer, weights, made);
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
        const pad = spatial(layer, rank);
        const [size, strides] = [pair(config.pool_size), pair(config.strides ?? config.pool_size)];
        const pool = layer.className === 'MaxPooling2D' ? tf.maxPool : tf.avgPool;
        ops.push({ kind: 'op', run: (h) => pool(h as tf.Tensor4D, size, strides, pad) });
        return;
      }
      case 'GlobalAveragePooling2D':
        check(rank === 4 && config.data_format === 'channels_last', layer, `data format ${String(config.data_format)}`);
        ops.push({ kind: 'op', run: (h) => tf.mean(h, [1, 2]) });
        rank = 2;
        return;
      case 'Flatten':
        // Only channels_first transposes before flattening; unset means channels_last here.
        check(config.data_format == null || config.data_format === 'channels_last', layer, `data format ${String(config.data_format)}`);
        ops.push({ kind: 'op', run: (h) => tf.reshape(h, [h.shape[0], -1]) });
        rank = 2;
        return;
      case 'Dense': {
        check(rank === 2, layer, `dense on rank ${rank} input`);
        const w = weightsOf(layer, weights, ['kernel', 'bias']);
        check(w.get('kernel')?.rank === 2 && w.has('bias') === Boolean(config.use_bias), layer, 'weights do not match its config');
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
  const model = { name: 'model', className: 'Sequential' };
  check(rank === 2 && ops.length, model, 'output is not one row per image');
  check(weights.size === 0, model, `weights no layer uses: ${[...weights.keys()].join(', ')}`);
  return ops;
}

function toStep(op: Op): (h: tf.Tensor) => tf.Tensor {
  if (op.kind === 'op') return op.run;
  const { weight, bias, activation, strides, pad } = op;
  if (op.kind === 'dense') return (h) => tf.fused.matMul({ a: h as tf.Tensor2D, b: weight as tf.Tensor2D, bias: bias ?? undefined, activation });
  return (h) => tf.fused.conv2d({ x: h as tf.Tensor4D, filter: weight as tf.Tensor4D, bias: bias ?? undefined, activation, strides, pad });
}

/**
 * Compiles a saved Sequential model (`model.json`'s `modelTopology` and its decoded weights, by
 * name) into a {@link ForwardPlan} without building a tfjs-layers model, folding each Conv2D +
 * BatchNormalization (+ ReLU) into one fused conv and each Dense + ReLU into one fused matMul, so
 * that work is done once here rather than in every request. Returns null for a layer or setting
 * it does not know (then tfjs-layers' `model.predict` is the way to run it). On success the plan
 * owns the weights: those it folded away are freed now, the rest with the plan. On null the
 * weights are left to the caller.
 *
 * @example
 * const plan = compileForward(modelJson.modelTopology, tf.io.decodeWeights(data, specs));
 * const probabilities = plan?.(x); // one row per image
 */
export function compileForward(topology: unknown, weights: tf.NamedTensorMap, options: CompileOptions = {}): ForwardPlan | null {
  const made: tf.Tensor[] = [];
  let steps: ((h: tf.Tensor) => tf.Tensor)[];
  let inputShape: [number, number, number];
  let ops: Op[];
  try {
    const parsed = layersOf(topology);
    inputShape = parsed.inputShape;
    ops = compile(parsed.layers, new Map(Object.entries(weights)), made);
    steps = ops.map(toStep);
  } catch (error) {
    tf.dispose(made);
    if (!(error instanceof Unsupported)) throw error;
    options.onUnsupported?.(error.message);
    return null;
  }
  const held = new Set<tf.Tensor>();
  for (const op of ops) if (op.kind !== 'op') for (const t of [op.weight, op.bias]) if (t) held.add(t);
  tf.dispose([...made, ...Object.values(weights)].filter((t) => !held.has(t)));
  const run = (x: tf.Tensor4D) => tf.tidy(() => steps.reduce<tf.Tensor>((h, step) => step(h), x) as tf.Tensor2D);
  let head = ops.length;
  while (head > 0 && ops[head - 1].kind !== 'dense') head--;
  // Without a dense layer (a network that pools straight into its softmax) the output is all there is.
  const withFeatures = (x: tf.Tensor4D) => {
    if (head === 0) {
      const output = run(x);
      return { features: output, output };
    }
    const features = steps.slice(0, head - 1).reduce<tf.Tensor>((h, step) => step(h), x) as tf.Tensor2D;
    const output = steps.slice(head - 1).reduce<tf.Tensor>((h, step) => step(h), features) as tf.Tensor2D;
    return { features, output };
  };
  return Object.assign(run, {
    withFeatures,
    inputShape,
    bytes: [...held].reduce((n, t) => n + t.size * 4, 0),
    convs: ops.flatMap((op) => (op.kind === 'conv' ? [{ filterShape: op.weight.shape, strides: op.strides }] : [])),
    dispose: () => tf.dispose([...held]),
  });
}
