import { preprocess } from '../shared/index.ts';
import { tf } from './backend.ts';
import { decodeImage } from './decode.ts';
import type { LoadedModel } from './model-store.ts';

export interface Prediction {
  label: string;
  probability: number;
}

export interface Classification {
  id: string;
  model: { name: string; version: string };
  top: Prediction;
  predictions: Prediction[];
  timing: { decodeMs: number; preprocessMs: number; inferMs: number };
}

// workerd's clock only moves across I/O (a Spectre mitigation); a zero timer between the
// phases lets each phase's duration show up.
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Decodes one image, preprocesses it with the manifest's parameters (the trainer's own
 * code) and runs the model. Probabilities come back for every class, highest first.
 *
 * @example
 * const result = await classifyImage(bytes, loaded);
 * result.top; // { label: 'NEUTROPHIL', probability: 0.93 }
 */
export async function classifyImage(bytes: Uint8Array, loaded: LoadedModel): Promise<Classification> {
  const { manifest, model } = loaded;
  await tick();
  const t0 = Date.now();
  const image = await decodeImage(bytes);
  await tick();
  const t1 = Date.now();
  const input = preprocess(image, manifest.preprocessing);
  await tick();
  const t2 = Date.now();
  const { height, width, channels } = manifest.input;
  const output = tf.tidy(() => model.predict(tf.tensor4d(input, [1, height, width, channels])) as tf.Tensor);
  const probabilities = await output.data();
  output.dispose();
  await tick();
  const t3 = Date.now();
  const predictions = manifest.classes
    .map((label, i) => ({ label, probability: probabilities[i] }))
    .sort((a, b) => b.probability - a.probability);
  return {
    id: crypto.randomUUID(),
    model: { name: manifest.name, version: manifest.version },
    top: predictions[0],
    predictions,
    timing: { decodeMs: t1 - t0, preprocessMs: t2 - t1, inferMs: t3 - t2 },
  };
}
