/**
 * A worker thread's replica of the model in a data-parallel training step (data-parallel.ts). It
 * keeps its own tfjs with its own wasm backend: each step it loads the main thread's current weights
 * from shared memory, computes the gradients of its rows of the batch and writes them back.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { PreprocessingParams } from '../../shared/index.ts';
import { activate } from '../training/backend.ts';
import { predictServed } from '../training/forward.ts';
import { prepareModelForTraining } from '../kernels/index.ts';
import { setReplicaSum } from '../kernels/ops/replica-sum.ts';
import { ReplicaLink, type LinkLayout } from './replica-link.ts';
import { shardGradients, smoothedCrossEntropy, valuesOf } from './shard-step.ts';

export interface InitMessage {
  type: 'init';
  buffer: SharedArrayBuffer;
  layout: LinkLayout;
  rank: number;
  /** `model.toJSON()` of the main thread's model. */
  topology: string;
  inputShape: number[];
  labelSmoothing: number;
}

export interface StepMessage {
  type: 'step';
  /** This replica's rows of the batch in shared memory, and the whole batch's size. */
  start: number;
  count: number;
  batchSize: number;
}

export interface PredictMessage {
  type: 'predict';
  /** This replica's examples' prepared pixels, one after another, and their count. */
  pixels: Uint8Array;
  count: number;
  params: PreprocessingParams;
  classCount: number;
}

export type ReplyMessage =
  | { type: 'ready' }
  | { type: 'done'; lossSum: number; correct: number }
  | { type: 'predicted'; probabilities: Float32Array }
  | { type: 'error'; message: string; stack?: string };

const port = parentPort!;
let replica: { model: tfl.LayersModel; link: ReplicaLink; init: InitMessage } | undefined;

function reply(message: ReplyMessage): void {
  port.postMessage(message);
}

async function init(message: InitMessage): Promise<void> {
  await activate('wasm');
  const model = await tfl.models.modelFromJSON({ modelTopology: JSON.parse(message.topology) });
  prepareModelForTraining(model);
  const sizes = model.weights.map((w) => w.shape.reduce((a: number, b) => a * (b ?? 1), 1));
  if (sizes.join() !== message.layout.weightSizes.join()) throw new Error('replica weights do not match the main model');
  replica = { model, link: new ReplicaLink(message.buffer, message.layout, message.rank), init: message };
}

/** The main thread's current weights (published after every step) into this replica's model. */
function loadWeights(): void {
  const { model, link } = replica!;
  let at = 0;
  tf.tidy(() => {
    for (const w of model.weights) {
      const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
      w.write(tf.tensor(link.weights.subarray(at, at + size), w.shape as number[]));
      at += size;
    }
  });
}

function step({ start, count, batchSize }: StepMessage): { lossSum: number; correct: number } {
  const { model, link, init: { inputShape, layout, labelSmoothing } } = replica!;
  loadWeights();
  return tf.tidy(() => {
    const x = tf.tensor(link.x.subarray(start * layout.xSize, (start + count) * layout.xSize), [count, ...inputShape]);
    const y = tf.tensor(link.y.subarray(start * layout.ySize, (start + count) * layout.ySize), [count, layout.ySize]);
    setReplicaSum(link.sum);
    try {
      const { grads, lossSum, correct } = shardGradients(model, smoothedCrossEntropy(labelSmoothing), x, y, batchSize);
      let g = 0;
      for (const grad of grads) {
        link.grads[link.rank].set(valuesOf(grad), g);
        g += grad.size;
      }
      return { lossSum, correct };
    } finally {
      setReplicaSum(null);
    }
  });
}

/** Class probabilities of this replica's share of a validation set, as the main thread's predictServed computes them. */
async function predict({ pixels, count, params, classCount }: PredictMessage): Promise<void> {
  loadWeights();
  const size = pixels.length / count;
  const examples = Array.from({ length: count }, (_, i) => ({ pixels: pixels.subarray(i * size, (i + 1) * size), label: 0 }));
  const probabilities = await predictServed(replica!.model, examples, params, classCount);
  port.postMessage({ type: 'predicted', probabilities } satisfies ReplyMessage, [probabilities.buffer as ArrayBuffer]);
}

const failed = (err: Error) => reply({ type: 'error', message: err.message, stack: err.stack });

port.on('message', (message: InitMessage | StepMessage | PredictMessage) => {
  try {
    if (message.type === 'init') {
      init(message).then(() => reply({ type: 'ready' }), failed);
    } else if (message.type === 'predict') {
      predict(message).catch(failed);
    } else {
      reply({ type: 'done', ...step(message) });
    }
  } catch (err) {
    replica?.link.abort();
    reply({ type: 'error', message: (err as Error).message, stack: (err as Error).stack });
  }
});
