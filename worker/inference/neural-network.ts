import * as tfl from '@tensorflow/tfjs-layers';
import { compileForward, SELF_TEST_TOLERANCE, selfTestDifference, selfTestInputs, winogradTransformBytes, type ForwardPlan, type SelfTest } from '../../shared/index.ts';
import { ensureBackend, tf } from './backend.ts';
import { HttpError } from '../errors.ts';

/** A version's network, ready to run. */
export interface Network {
  /** One row of class probabilities per image; call it inside `tf.tidy`. */
  run(x: tf.Tensor4D): tf.Tensor;
  /** The output with the features its last dense layer reads, for the domain check; inside `tf.tidy` too. */
  runWithFeatures(x: tf.Tensor4D): { features: tf.Tensor; output: tf.Tensor };
  /** `plan`: the folded forward pass; `layers`: tfjs-layers' `model.predict`, for a network the plan does not know. */
  kind: 'plan' | 'layers';
  /** Height, width and channels of one input image. */
  inputShape: [number, number, number];
  /** Bytes its tensors hold in the wasm heap, with the Winograd transforms kept for its filters. */
  bytes: number;
  dispose(): void;
}

/** `model.json` with its weights, as read from the bucket. */
export interface SavedModel {
  modelTopology: object;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

// With the Winograd convolutions on, each eligible filter's transform is kept beside it (backend.ts).
const fromPlan = (plan: ForwardPlan, winograd: boolean): Network => ({
  run: (x) => plan(x),
  runWithFeatures: (x) => plan.withFeatures(x),
  kind: 'plan',
  inputShape: plan.inputShape,
  bytes: plan.bytes + (winograd ? plan.convs.reduce((n, c) => n + winogradTransformBytes(c.filterShape, c.strides), 0) : 0),
  dispose: () => plan.dispose(),
});

async function fromLayers(saved: SavedModel): Promise<Network> {
  const model = await tfl.loadLayersModel(tf.io.fromMemory(saved));
  const [, h, w, c] = model.inputs[0].shape;
  const head = model.layers.findLast((layer) => layer.getClassName() === 'Dense');
  const both = head ? tfl.model({ inputs: model.inputs, outputs: [head.input as tfl.SymbolicTensor, model.outputs[0]] }) : undefined;
  return {
    run: (x) => model.predict(x) as tf.Tensor,
    runWithFeatures: (x) => {
      if (!both) {
        const output = model.predict(x) as tf.Tensor;
        return { features: output, output };
      }
      const [features, output] = both.predict(x) as tf.Tensor[];
      return { features, output };
    },
    kind: 'layers',
    inputShape: [h, w, c] as [number, number, number],
    bytes: model.weights.reduce((n, weight) => n + weight.read().size * 4, 0),
    dispose: () => model.dispose(),
  };
}

// The check inputs when a version records no self-test: the same seeded batch.
const CHECK = { seed: 7, count: 2 };

/** The network's output on the seeded check batch (which also compiles its kernels now, not in a request). */
async function outputOn(network: Network, { seed, count }: { seed: number; count: number }): Promise<{ values: Float32Array; units: number }> {
  const [h, w, c] = network.inputShape;
  const output = tf.tidy(() => network.run(tf.tensor4d(selfTestInputs(seed, count, h, w, c), [count, h, w, c])));
  const values = (await output.data()) as Float32Array;
  const units = output.rank === 2 ? output.shape[1]! : -1;
  output.dispose();
  return { values, units };
}

function assertUnits(version: string, units: number, classes: number, network: Network): void {
  if (units === classes) return;
  network.dispose();
  throw new HttpError('model_invalid', `model ${version}: the network gives ${units} values per image, the manifest names ${classes} classes`);
}

/**
 * Builds the network of a version straight from its saved topology and weights (the folded plan,
 * without a tfjs-layers model) and checks it at load: against the self-test the trainer recorded
 * when there is one, otherwise against tfjs-layers' `model.predict`. A plan that fails its check
 * (a folding mistake) gives way to `model.predict`, so it costs speed, never a wrong answer; a
 * network whose output differs from the recorded self-test is refused (`model_integrity`).
 *
 * @example
 * const network = await buildNetwork('v3', saved, manifest.classes.length, manifest.selfTest);
 * const probabilities = tf.tidy(() => network.run(x));
 */
export async function buildNetwork(version: string, saved: SavedModel, classes: number, selfTest: SelfTest | undefined): Promise<Network> {
  const weights = tf.io.decodeWeights(saved.weightData, saved.weightSpecs);
  const plan = compileForward(saved.modelTopology, weights, {
    onUnsupported: (reason) => console.info(`model ${version}: ${reason}; it runs with model.predict`),
  });
  if (!plan) tf.dispose(Object.values(weights));
  const check = selfTest ?? CHECK;
  if (plan) {
    const folded = fromPlan(plan, (await ensureBackend()).convolutions === 'winograd');
    const { values, units } = await outputOn(folded, check);
    assertUnits(version, units, classes, folded);
    let expected: ArrayLike<number> = selfTest?.outputs ?? [];
    if (!selfTest) {
      // Versions written before the trainer recorded a self-test: compare with model.predict.
      const layers = await fromLayers(saved);
      expected = (await outputOn(layers, check)).values;
      layers.dispose();
    }
    const diff = selfTestDifference(expected, values);
    if (diff <= SELF_TEST_TOLERANCE) return folded;
    console.warn(`model ${version}: the folded forward pass is off by ${diff} on the load-time check; it runs with model.predict`);
    folded.dispose();
  }
  const layers = await fromLayers(saved);
  const { values, units } = await outputOn(layers, check);
  assertUnits(version, units, classes, layers);
  const diff = selfTest ? selfTestDifference(selfTest.outputs, values) : 0;
  if (!(diff <= SELF_TEST_TOLERANCE)) {
    layers.dispose();
    throw new HttpError(
      'model_integrity',
      `model ${version}: the network's output on the manifest's self-test is off by ${diff} from what the trainer recorded; re-publish the version from the folder \`npm run train\` wrote`,
    );
  }
  return layers;
}
