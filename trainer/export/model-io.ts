import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selfTestInputs, type QuantizationDtype, type SelfTest } from '../../shared/index.ts';
import { ModelError } from '../errors.ts';
import { quantizeWeights } from './quantize.ts';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';

/** The in-memory artifacts of a layers model, as `model.save` hands them over. */
export async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return captured!;
}

/**
 * Writes `model.json` + `weights.bin` into `dir` in the standard tfjs layers format, with
 * weights quantised to `dtype`; returns the bytes written. tfjs-node's file:// handler is
 * not used, so this works on every backend.
 */
export async function saveModel(model: tfl.LayersModel, dir: string, dtype: QuantizationDtype): Promise<number> {
  const artifacts = await modelArtifacts(model);
  const weightData = tf.io.concatenateArrayBuffers(
    Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData!],
  );
  const { specs, data } = quantizeWeights(artifacts.weightSpecs!, weightData, dtype);
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: null,
    modelTopology: artifacts.modelTopology,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: specs }],
  };
  await mkdir(dir, { recursive: true });
  const json = JSON.stringify(modelJson);
  await writeFile(path.join(dir, MODEL_FILE), json);
  await writeFile(path.join(dir, WEIGHTS_FILE), new Uint8Array(data));
  return Buffer.byteLength(json) + data.byteLength;
}

/** Loads a model written by `saveModel` (or any single-shard layers model) from `dir`. */
export async function loadModel(dir: string): Promise<tfl.LayersModel> {
  const modelPath = path.join(dir, MODEL_FILE);
  let json: { modelTopology?: object; weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  try {
    json = JSON.parse(await readFile(modelPath, 'utf8'));
  } catch (err) {
    throw new ModelError(`cannot read ${modelPath} (${(err as Error).message.split('\n')[0]}): pass --model with a version folder written by \`npm run train\``);
  }
  if (!json.modelTopology || !json.weightsManifest) {
    throw new ModelError(`${modelPath} is not a tfjs layers model (no modelTopology/weightsManifest)`);
  }
  const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = await Promise.all(
    json.weightsManifest.flatMap((g) => g.paths).map(async (p) => {
      const file = path.join(dir, p);
      const buf = await readFile(file).catch(() => {
        throw new ModelError(`weights file ${file} named by ${modelPath} is missing`);
      });
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
    }),
  );
  return tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: tf.io.concatenateArrayBuffers(buffers) }),
  );
}

const SELF_TEST_SEED = 7;
const SELF_TEST_COUNT = 2;

/**
 * The self-test the Worker checks at load: `model`'s output (load it from the written files, so
 * the weights are the quantised ones the Worker gets) on the seeded batch of shared/self-test.
 */
export async function recordSelfTest(model: tfl.LayersModel): Promise<SelfTest> {
  const [, height, width, channels] = model.inputs[0].shape as number[];
  const output = tf.tidy(() => {
    const x = tf.tensor4d(selfTestInputs(SELF_TEST_SEED, SELF_TEST_COUNT, height, width, channels), [SELF_TEST_COUNT, height, width, channels]);
    return model.predict(x) as tf.Tensor;
  });
  const outputs = Array.from(await output.data());
  output.dispose();
  return { seed: SELF_TEST_SEED, count: SELF_TEST_COUNT, outputs };
}
