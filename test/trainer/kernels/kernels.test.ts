import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { architectures } from '../../../trainer/training/architectures.ts';
import { fastAdam, fasterKernels, missingKernels, projectKernels, registerWasmTrainingKernels, prepareModelForTraining } from '../../../trainer/kernels/index.ts';
import { batchNormTraining } from '../../../trainer/kernels/ops/batch-norm.ts';
import { wasmKernelBuilds as kernelBuilds, type WasmKernelBuild as KernelBuild } from '../../../shared/index.ts';
import { chooseKernelBuild, KERNEL_BUILD_VARIABLE, kernelBuild, useKernelBuild } from '../../../trainer/kernels/simd.ts';
import { UserError } from '../../../trainer/errors.ts';
import { onBoth, random, relativeError, TOLERANCE, trainingKernelNames, type Arrays } from './kernel-helpers.ts';

type Pad = 'same' | 'valid';

function cpuFlags(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmTrainingKernels();
  registerWasmTrainingKernels(); // idempotent
});

describe('the build of the helper kernels', () => {
  it('is the fused multiply-add build where relaxed SIMD compiles (on Node 20 too, behind its V8 flag)', () => {
    expect(kernelBuild()).toBe('relaxed-simd');
  });

  it.each([
    [undefined, 'relaxed-simd'],
    ['', 'relaxed-simd'],
    ['simd128', 'simd128'],
    ['relaxed-simd', 'relaxed-simd'],
  ] as const)(`${KERNEL_BUILD_VARIABLE}=%j gives %s`, (wanted, build) => {
    expect(chooseKernelBuild(wanted)).toBe(build);
  });

  it('refuses an unknown build, naming the variable and the choices', () => {
    expect(() => chooseKernelBuild('avx512')).toThrow(UserError);
    expect(() => chooseKernelBuild('avx512')).toThrow(`${KERNEL_BUILD_VARIABLE}=avx512 is not a kernel build: use relaxed-simd or simd128`);
  });

  // FMA rounds once where mul + add rounds twice, so on a CPU with FMA the two builds differ in
  // the last bits: proof that the relaxed build really runs fused (the gradient tests bound by how much).
  it.runIf(/\bfma\b/.test(cpuFlags()))('runs fused: its convolution differs from the plain build in the last bits', () => {
    const before = kernelBuild();
    const xv = random([2, 8, 8, 8], 11), wv = random([3, 3, 8, 8], 12);
    tf.setBackend('wasm');
    const x = tf.tensor4d(xv, [2, 8, 8, 8]), w = tf.tensor4d(wv, [3, 3, 8, 8]);
    const conv = (b: KernelBuild) => {
      useKernelBuild(b);
      return tf.tidy(() => tf.conv2d(x, w, 1, 'same').dataSync() as Float32Array);
    };
    const fused = conv('relaxed-simd'), plain = conv('simd128');
    expect(fused).not.toEqual(plain);
    expect(relativeError({ cpu: [plain], wasm: [fused] })).toBeLessThan(1e-5);
    useKernelBuild(before);
    tf.dispose([x, w]);
  });
});

describe('registerWasmTrainingKernels', () => {
  it('registers every kernel for wasm, and the missing one was really missing', () => {
    for (const k of [...missingKernels, ...fasterKernels, ...projectKernels]) expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(k.kernelFunc);
    expect(missingKernels.map((k) => k.kernelName)).toContain('Conv2DBackpropFilter');
  });
});

// Every kernel test runs on both builds of the helper module: the fused multiply-add one the
// trainer picks where it compiles, and the plain SIMD128 one it falls back to.
describe.each(kernelBuilds)('on the %s helper kernels', (build) => {
  beforeAll(() => useKernelBuild(build));

  describe('conv2d and its gradients match cpu', () => {
    // [x shape, filter shape, strides, padding]; odd sizes, batch > 1, output channels on and off
    // the multiple of 8 the SIMD path needs, and a filter that covers the whole input.
    const cases: [number[], number[], [number, number], Pad][] = [
      [[2, 7, 7, 3], [3, 3, 3, 8], [1, 1], 'same'],
      [[2, 7, 7, 3], [3, 3, 3, 8], [2, 2], 'same'],
      [[2, 8, 9, 3], [3, 3, 3, 8], [2, 2], 'valid'],
      [[3, 9, 8, 5], [2, 3, 5, 6], [2, 1], 'valid'],
      [[1, 11, 11, 2], [5, 5, 2, 16], [1, 1], 'same'],
      [[2, 6, 6, 4], [1, 1, 4, 3], [1, 1], 'valid'],
      [[3, 5, 5, 6], [3, 3, 6, 7], [1, 1], 'same'],
      [[2, 4, 4, 3], [4, 4, 3, 8], [1, 1], 'valid'],
      // Wider than the image with padding on both sides: no output column has its whole filter row inside.
      [[2, 3, 5, 2], [5, 5, 2, 8], [2, 2], 'same'],
      // Input channels in multiples of 8: the input gradient also runs on the direct convolution.
      [[2, 6, 6, 8], [3, 3, 8, 16], [1, 1], 'same'],
      [[2, 7, 6, 8], [3, 2, 8, 8], [1, 1], 'valid'],
      // 'same' padding split unevenly (0 before, 1 after), on a padded input.
      [[2, 8, 8, 3], [3, 3, 3, 8], [2, 2], 'same'],
      [[2, 6, 7, 8], [2, 2, 8, 8], [1, 1], 'same'],
      // Outputs wider than 16: the padding stays implicit (narrower inputs are padded first).
      [[2, 18, 20, 3], [3, 3, 3, 8], [1, 1], 'same'],
      [[1, 17, 18, 8], [3, 3, 8, 16], [1, 1], 'same'],
      [[2, 35, 34, 4], [3, 3, 4, 8], [2, 2], 'same'],
      // Winograd (3x3, stride 1, 8+ input channels in fours): output sizes 1, 2 and 3 past a
      // multiple of 4, so the last 4x4 blocks hang over the edge; 'valid'; and 90 tiles, more than
      // two blocks of 32, the last one partial.
      [[2, 9, 7, 16], [3, 3, 16, 8], [1, 1], 'valid'],
      [[2, 7, 5, 12], [3, 3, 12, 16], [1, 1], 'same'],
      [[3, 20, 22, 8], [3, 3, 8, 24], [1, 1], 'same'],
    ];
    it.each(cases)('x %j filter %j strides %j %s', (xShape, wShape, strides, pad) => {
      const xv = random(xShape, 1), wv = random(wShape, 2);
      tf.setBackend('cpu');
      const outShape = tf.tidy(() => tf.conv2d(tf.tensor4d(xv, xShape as never), tf.tensor4d(wv, wShape as never), strides, pad).shape);
      const dyv = random(outShape, 3);
      const result = onBoth(() => {
        const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad);
        const x = tf.tensor(xv, xShape), w = tf.tensor(wv, wShape);
        return [f(x, w), ...tf.grads(f)([x, w], tf.tensor(dyv, outShape))];
      });
      expect(relativeError(result)).toBeLessThan(TOLERANCE);
    });

    // 4 input channels: wasm's own FusedConv2D; 8: the Winograd one the Worker also runs.
    it.each([4, 8])('fused conv2d with bias and relu (what tfjs-layers and the folded pass run), %i input channels, matches cpu', (ci) => {
      const xv = random([2, 9, 9, ci], 4), wv = random([3, 3, ci, 8], 5), bv = random([8], 6), dyv = random([2, 9, 9, 8], 7);
      const result = onBoth(() => {
        const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b, strides: 1, pad: 'same', activation: 'relu' });
        const inputs = [tf.tensor(xv, [2, 9, 9, ci]), tf.tensor(wv, [3, 3, ci, 8]), tf.tensor(bv, [8])] as const;
        return [f(...inputs), ...tf.grads(f)([...inputs], tf.tensor(dyv, [2, 9, 9, 8]))];
      });
      expect(relativeError(result)).toBeLessThan(TOLERANCE);
    });

    it('rejects NCHW data with a clear error', () => {
      tf.setBackend('wasm');
      expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.zeros([1, 3, 5, 5]), dy: tf.zeros([1, 2, 5, 5]) },
        { strides: [1, 1], pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 3, 2] })).toThrow(/NHWC/);
    });
  });

  describe('max-pool gradient matches cpu', () => {
    const cases: [[number, number, number, number], number, number, Pad][] = [
      [[2, 8, 8, 8], 2, 2, 'valid'],
      [[2, 7, 9, 3], 3, 2, 'same'],
      [[1, 5, 5, 6], 3, 1, 'same'],
      [[3, 9, 7, 5], 2, 2, 'same'],
      [[2, 6, 6, 4], 3, 3, 'valid'],
    ];
    it.each(cases)('x %j window %i stride %i %s', (shape, size, stride, pad) => {
      const xv = random(shape, 8);
      const result = onBoth(() => {
        const x = tf.tensor(xv, shape) as tf.Tensor4D;
        const outShape = tf.maxPool(x, size, stride, pad).shape;
        return [tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, size, stride, pad))(x, tf.tensor(random(outShape, 9), outShape))];
      });
      expect(relativeError(result)).toBeLessThan(TOLERANCE);
    });
  });

  describe('matMul and its gradients match cpu', () => {
    const cases: [number, number, number, boolean, boolean][] = [
      [5, 7, 6, false, false], [5, 7, 6, true, false], [5, 7, 6, false, true], [5, 7, 6, true, true],
      [3, 200, 9, false, true], [33, 17, 3, true, false],
      // Shapes for the SIMD GEMMs: n a multiple of 8 (nn, tn), k of 4 (nt); odd row counts, k past one 256 block.
      [5, 12, 16, false, false], [5, 12, 16, false, true], [5, 12, 16, true, false], [33, 300, 24, false, false],
      [7, 8, 6, false, true], [33, 300, 24, true, false],
    ];
    it.each(cases)('m %i k %i n %i transposeA %s transposeB %s', (m, k, n, ta, tb) => {
      const aShape = ta ? [k, m] : [m, k], bShape = tb ? [n, k] : [k, n];
      const av = random(aShape, 10), bv = random(bShape, 11), dyv = random([m, n], 12);
      const result = onBoth(() => {
        const a = tf.tensor(av, aShape), b = tf.tensor(bv, bShape);
        const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb));
        return [tf.matMul(a, b, ta, tb), ...g([a, b], tf.tensor(dyv, [m, n]))];
      });
      expect(relativeError(result)).toBeLessThan(TOLERANCE);
    });

    it('batched products (wasm own kernel) still match', () => {
      const av = random([3, 4, 5], 13), bv = random([3, 6, 5], 14);
      expect(relativeError(onBoth(() => [tf.matMul(tf.tensor(av, [3, 4, 5]), tf.tensor(bv, [3, 6, 5]), false, true)]))).toBeLessThan(TOLERANCE);
    });
  });

  describe('tile, sum and mean match cpu', () => {
    const v = random([3, 4, 5, 6], 15);
    const x = () => tf.tensor(v, [3, 4, 5, 6]);
    const cases: [string, () => tf.Tensor][] = [
      ['tile per-channel vector to a batch', () => tf.tile(tf.tensor(v.slice(0, 6), [1, 1, 1, 6]), [2, 3, 4, 1])],
      ['tile every axis', () => tf.tile(x(), [2, 1, 3, 2])],
      ['tile int32', () => tf.tile(tf.tensor([1, 2, 3], [3], 'int32'), [4])],
      ['sum over leading axes', () => tf.sum(x(), [0, 1, 2])],
      ['sum over leading axes, given out of order, keepDims', () => tf.sum(x(), [1, 0], true)],
      ['sum over the last axis (wasm own kernel)', () => tf.sum(x(), 3)],
      ['sum of everything', () => tf.sum(x())],
      ['mean over leading axes', () => tf.mean(x(), [0, 1, 2])],
      ['mean over the middle axes (wasm own kernel)', () => tf.mean(x(), [1, 2])],
    ];
    it.each(cases)('%s', (_, f) => {
      expect(relativeError(onBoth(() => [f()]))).toBeLessThan(TOLERANCE);
    });

    it('sums 100k rows as exactly as cpu does', () => {
      const big = random([100_000, 8], 16);
      for (let i = 0; i < big.length; i++) big[i] += 3; // a large common offset is where float32 running sums drift
      expect(relativeError(onBoth(() => [tf.sum(tf.tensor(big, [100_000, 8]), 0)]))).toBeLessThan(1e-6);
    });
  });

  describe('identity and same-dtype cast share their buffer', () => {
    it.each([['a clone', (x: tf.Tensor) => tf.clone(x)], ['a cast to float32', (x: tf.Tensor) => tf.cast(x, 'float32')]] as const)(
      '%s keeps its values after the original is disposed', (_, copy) => {
        tf.setBackend('wasm');
        const x = tf.tensor([1.5, 2, 3, 4], [2, 2]);
        const before = tf.memory().numDataBuffers;
        const y = copy(x);
        expect(tf.memory().numDataBuffers).toBe(before);
        x.dispose();
        expect(Array.from(y.dataSync())).toEqual([1.5, 2, 3, 4]);
        y.dispose();
      },
    );

    it('a cast to another dtype still converts', () => {
      tf.setBackend('wasm');
      const x = tf.tensor([1.5, -2.5, 3], [3]);
      const y = tf.cast(x, 'int32');
      expect(y.dtype).toBe('int32');
      expect(Array.from(y.dataSync())).toEqual([1, -2, 3]);
      tf.dispose([x, y]);
    });
  });

  describe('batch norm in training mode matches cpu', () => {
    // Channels on and off the SIMD width of 4, row counts under and over a 64-row block, and a
    // mean 100 standard deviations from zero (the variance comes from E[x^2] - mean^2); alone and
    // fused with the ReLU after it.
    const cases: [number[], number, number, boolean][] = [
      [[3, 5, 5, 6], 3, 2, false], [[2, 6, 6, 8], 0, 1, false], [[40, 3, 24], -1, 0.5, false], [[4, 4, 4, 5], 50, 0.5, false],
      [[3, 5, 5, 6], 3, 2, true], [[40, 3, 24], -1, 0.5, true], [[4, 4, 4, 5], 50, 0.5, true],
    ];
    it.each(cases)('x %j, mean %d, sd %d, relu %s', (shape, offset, sd, relu) => {
      const channels = shape[shape.length - 1];
      const xv = random(shape, 30).map((v) => offset + sd * v), gv = random([channels], 31), bv = random([channels], 32), dyv = random(shape, 33);
      const result = onBoth(() => {
        const f = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          if (tf.getBackend() === 'wasm') return batchNormTraining(x, g, b, 1e-3, relu);
          // What tfjs-layers' BatchNormalization (and Activation) compose in training.
          const { mean, variance } = tf.moments(x, shape.slice(0, -1).map((_, i) => i));
          const y = tf.batchNorm(x, mean, variance, b, g, 1e-3);
          return { y: relu ? tf.relu(y) : y, mean, variance };
        };
        const x = tf.tensor(xv, shape), g = tf.tensor(gv, [channels]), b = tf.tensor(bv, [channels]);
        const { y, mean, variance } = f(x, g, b);
        const grads = tf.grads((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => f(xi, gi, bi).y)([x, g, b], tf.tensor(dyv, shape));
        return [y, mean, variance, ...grads];
      });
      expect(relativeError(result)).toBeLessThan(TOLERANCE);
    });

    it('fuses the ReLU layer after each batch norm of the compact model into it, and the max-pool after that', async () => {
      const model = architectures.compact.build({ inputSize: 16, classCount: 3, seed: 7 });
      prepareModelForTraining(model);
      const x = tf.randomUniform([2, 16, 16, 3]), y = tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3);
      const names = await trainingKernelNames(model, x, y);
      // Three blocks end in a 2x2 max-pool (batch-norm-pool.ts), the last in global pooling.
      expect(names.filter((n) => n === 'CellsenseBatchNormReluPoolTrain')).toHaveLength(3);
      expect(names.filter((n) => n === 'CellsenseBatchNormTrain')).toHaveLength(1);
      for (const unfused of ['Relu', 'CellsenseReluGrad', 'MaxPool', 'MaxPoolGrad']) expect(names).not.toContain(unfused);
      // Inference keeps tfjs-layers' own layers, ReLU and pooling included.
      const { kernels: inference } = await tf.profile(() => model.predict(x) as tf.Tensor);
      expect(inference.map((k) => k.name).filter((n) => n === 'Relu')).toHaveLength(4);
      expect(inference.map((k) => k.name).filter((n) => n === 'MaxPool')).toHaveLength(3);
      tf.dispose([x, y]);
      model.dispose();
    });
  });

  describe('relu gradient matches cpu', () => {
    it('on values of both signs and zeros', () => {
      const xv = random([4, 9, 7], 40).map((v, i) => (i % 11 === 0 ? 0 : v)), dyv = random([4, 9, 7], 41);
      expect(relativeError(onBoth(() => [tf.grad((x: tf.Tensor) => tf.relu(x))(tf.tensor(xv, [4, 9, 7]), tf.tensor(dyv, [4, 9, 7]))]))).toBeLessThan(TOLERANCE);
    });
  });

  describe('one-pass Adam matches tfjs Adam on cpu', () => {
    it('weights and moments after three steps', () => {
      const wv = random([37], 50), gv = [51, 52, 53].map((s) => random([37], s));
      const result = onBoth(() => {
        const optimizer = tf.getBackend() === 'wasm' ? fastAdam(0.01) : tf.train.adam(0.01);
        const w = tf.variable(tf.tensor(wv, [37]), true, `adam-test-${tf.getBackend()}`);
        for (const g of gv) optimizer.applyGradients([{ name: w.name, tensor: tf.tensor(g, [37]) }]);
        const moments = (optimizer as unknown as { accumulatedFirstMoment: { variable: tf.Variable }[]; accumulatedSecondMoment: { variable: tf.Variable }[] });
        const out = [w.clone(), moments.accumulatedFirstMoment[0].variable.clone(), moments.accumulatedSecondMoment[0].variable.clone()];
        optimizer.dispose();
        w.dispose();
        return out;
      });
      expect(relativeError(result)).toBeLessThan(1e-6);
    });
  });

  describe('one training step of each model matches cpu', () => {
    const size = 16;
    const batch = 4;
    const classes = 3;
    const xv = random([batch, size, size, 3], 20);
    const labels = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0]);

    async function step(backend: string, arch: string, how: 'trainOnBatch' | 'minimize'): Promise<{ loss: number; weights: Arrays }> {
      tf.setBackend(backend);
      const model = architectures[arch].build({ inputSize: size, classCount: classes, seed: 7 });
      const x = tf.tensor(xv, [batch, size, size, 3]);
      const y = tf.tensor(labels, [batch, classes]);
      let loss: number;
      // The production path: fast batch norm and Adam on wasm (both fall back to tfjs' own on cpu).
      prepareModelForTraining(model);
      if (how === 'trainOnBatch') {
        model.compile({ optimizer: fastAdam(0.01), loss: 'categoricalCrossentropy' });
        loss = (await model.trainOnBatch(x, y)) as number;
      } else {
        // Plain SGD: the update is proportional to the gradient, so a wrong gradient shows.
        const optimizer = tf.train.sgd(0.1);
        const smoothed = tf.add(tf.mul(y, 0.9), 0.1 / classes);
        const value = optimizer.minimize(() => tf.mean(tfl.metrics.categoricalCrossentropy(smoothed, model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, true)!;
        loss = value.dataSync()[0];
        tf.dispose([value, smoothed]);
      }
      const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
      tf.dispose([x, y]);
      model.dispose();
      return { loss, weights };
    }

    it.each([['tutorial', 'trainOnBatch'], ['compact', 'trainOnBatch'], ['tutorial', 'minimize'], ['compact', 'minimize']] as const)(
      '%s via %s', async (arch, how) => {
        const cpu = await step('cpu', arch, how);
        const wasm = await step('wasm', arch, how);
        expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-4 * Math.max(1, Math.abs(cpu.loss)));
        // SGD moves each weight by lr * gradient: the weights check the gradients to float precision.
        // Adam's first step moves it by lr * g / (|g| + 1e-7): for gradients near zero a rounding
        // difference in g (fused multiply-add or not) is magnified, so it gets a looser bound.
        expect(relativeError({ cpu: cpu.weights, wasm: wasm.weights })).toBeLessThan(how === 'minimize' ? 1e-5 : 5 * TOLERANCE);
      },
    );
  });
});
