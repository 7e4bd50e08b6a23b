import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface ModelShapeOptions {
  inputSize: number;
  classCount: number;
  seed: number;
}

export interface ArchSpec {
  /** What the architecture is and why it is there, for `--help` and the report. */
  description: string;
  /** Input size used when `--input-size` is not given. */
  defaultInputSize: number;
  build(options: ModelShapeOptions): tfl.LayersModel;
}

/** Seeded initialisers make the same `--seed` give the same starting weights. */
function kernelInit(seed: number, layer: number) {
  return tfl.initializers.heNormal({ seed: seed * 1000 + layer });
}

function glorot(seed: number, layer: number) {
  return tfl.initializers.glorotUniform({ seed: seed * 1000 + layer });
}

/**
 * The seed tutorial's CNN, with the Flatten its code forgot: two 32-filter 3x3 convs with
 * max-pooling, a 128-unit dense layer, softmax. Kept as the baseline the default is judged against.
 */
function buildTutorial({ inputSize, classCount, seed }: ModelShapeOptions): tfl.LayersModel {
  const m = tfl.sequential({ name: 'tutorial' });
  m.add(tfl.layers.conv2d({ inputShape: [inputSize, inputSize, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(seed, 1) }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(seed, 2) }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: glorot(seed, 3) }));
  m.add(tfl.layers.dense({ units: classCount, activation: 'softmax', kernelInitializer: glorot(seed, 4) }));
  return m;
}

/**
 * Default: four conv blocks (conv, batch norm, ReLU) with pooling and a global-average head.
 * Global pooling instead of Flatten+Dense keeps the weights at ~70 KB quantised and makes
 * the model indifferent to where in the crop the cell sits; batch norm lets it train fast.
 * No dropout: tfjs' seeded dropout repeats one mask every step, and unseeded breaks --seed.
 */
function buildCompact(options: ModelShapeOptions): tfl.LayersModel {
  return buildBlocks('compact', [24, 32, 64, 96], options);
}

/**
 * Compact with a fifth block (128 filters at 4x4 on a 64-pixel input): each output then sees the
 * whole cell window (a receptive field of 63 pixels against compact's 31), for 10% more work.
 */
function buildCompact5(options: ModelShapeOptions): tfl.LayersModel {
  return buildBlocks('compact5', [24, 32, 64, 96, 128], options);
}

function buildBlocks(name: string, filters: number[], { inputSize, classCount, seed }: ModelShapeOptions): tfl.LayersModel {
  const m = tfl.sequential({ name });
  filters.forEach((f, i) => {
    m.add(tfl.layers.conv2d({
      ...(i === 0 ? { inputShape: [inputSize, inputSize, 3] } : {}),
      filters: f, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: kernelInit(seed, i + 1),
    }));
    // Momentum 0.9, not Keras' 0.99: runs here are a few hundred steps, and 0.99 leaves the
    // moving statistics epochs behind the weights, so validation swings from epoch to epoch.
    m.add(tfl.layers.batchNormalization({ momentum: 0.9 }));
    m.add(tfl.layers.activation({ activation: 'relu' }));
    if (i < filters.length - 1) m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  });
  m.add(tfl.layers.globalAveragePooling2d({}));
  m.add(tfl.layers.dense({ units: classCount, activation: 'softmax', kernelInitializer: glorot(seed, 9) }));
  return m;
}

export const architectures: Record<string, ArchSpec> = {
  compact: {
    description: 'default: 4 conv+batch-norm blocks, global average pooling (~70 KB uint8)',
    defaultInputSize: 64,
    build: buildCompact,
  },
  compact5: {
    description: 'compact with a fifth block of 128 filters: sees the whole cell window at once (~200 KB uint8)',
    defaultInputSize: 64,
    build: buildCompact5,
  },
  tutorial: {
    description: "the seed tutorial's CNN: 2x(conv 32, max-pool), flatten, dense 128",
    defaultInputSize: 64,
    build: buildTutorial,
  },
};

export const DEFAULT_ARCH = 'compact';

/** Number of trainable and non-trainable weights, for the report. */
export function parameterCount(model: tfl.LayersModel): number {
  return model.weights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
}

export { tf };
