import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PreprocessingParams } from '../../shared/index.ts';
import { PREDICT_BATCH, type Example } from '../data/batches.ts';
import { predictServed } from '../training/forward.ts';
import { setReplicaSum } from '../kernels/ops/replica-sum.ts';
import { createSharedBuffer, ReplicaAbort, ReplicaLink, type LinkLayout } from './replica-link.ts';
import type { InitMessage, PredictMessage, ReplyMessage, StepMessage } from './replica-worker.ts';
import { shardGradients, trainableVariables, valuesOf, type LossFunction } from './shard-step.ts';

/**
 * One optimizer step on a batch: mean loss and accuracy, as `trainOnBatch` reports them. `idle`
 * is work for the main thread's waits within the step (ReplicaLink.idle), e.g. the next batch.
 */
export type TrainStep = (x: tf.Tensor, y: tf.Tensor, idle?: () => boolean) => Promise<[number, number]>;

/** Class probabilities of `examples` (n x classes) from the model's current weights, as `predictServed` computes them. */
export type PredictExamples = (examples: Example[], params: PreprocessingParams, classCount: number) => Promise<Float32Array>;

type Reply = Exclude<ReplyMessage, { type: 'error' }>;

export interface DataParallelOptions {
  /** Replicas including the main thread's; 1 means plain `trainOnBatch`. */
  workers: number;
  loss: LossFunction;
  labelSmoothing: number;
  optimizer: tf.Optimizer;
  /** Largest batch the step will be given. */
  maxBatch: number;
}

/**
 * Data-parallel replicas pay on wasm, which runs one thread per tfjs instance: up to 4, one per core.
 * tfjs-node already uses every core and cpu is for tests, so they train in one replica.
 */
export function defaultWorkers(backend: string = tf.getBackend()): number {
  return backend === 'wasm' ? Math.max(1, Math.min(availableParallelism(), 4)) : 1;
}

function spawnReplica(): Worker {
  return new Worker(new URL('./replica-bootstrap.mjs', import.meta.url));
}

function sizeOf(shape: (number | null)[]): number {
  return shape.reduce((a: number, b) => a * (b ?? 1), 1);
}

/** Rows [start, start + count) of the batch for each replica, as even as possible, in replica order. */
export function shardRanges(batch: number, replicas: number): { start: number; count: number }[] {
  const base = Math.floor(batch / replicas), extra = batch % replicas;
  let start = 0;
  return Array.from({ length: replicas }, (_, r) => {
    const count = base + (r < extra ? 1 : 0);
    const range = { start, count };
    start += count;
    return range;
  });
}

/**
 * Trains one model with `workers` replicas: the main thread and workers-1 worker threads each take
 * an even share of every batch; batch norm sums its statistics over all of them mid-pass
 * (kernels/batch-norm.ts), the gradients are added in replica order and one optimizer (the main
 * thread's) applies them; the new weights go back through shared memory. So a step equals the
 * single-replica step up to float summation order, and a seed gives the same run for a worker count.
 */
export class DataParallelTrainer {
  private readonly link: ReplicaLink;
  /** Cumulative main-thread time per phase of the steps so far (ms), for profiling. */
  readonly phases = { shard: 0, waitInShard: 0, waitForWorkers: 0, update: 0 };
  /** Exit codes of workers that are gone (a crash between steps, or close). */
  private readonly exited = new Map<number, number>();

  private constructor(
    private readonly model: tfl.LayersModel,
    private readonly options: DataParallelOptions,
    private readonly workers: Worker[],
    layout: LinkLayout,
    buffer: SharedArrayBuffer,
  ) {
    this.link = new ReplicaLink(buffer, layout, 0);
    workers.forEach((worker, i) => worker.once('exit', (code) => this.exited.set(i, code)));
  }

  /** A worker that is gone would leave the others waiting for it at the first batch-norm exchange. */
  private gone(): Error | null {
    const [i, code] = [...this.exited][0] ?? [];
    return i === undefined ? null : new Error(`training worker ${i + 1} exited (code ${code})`);
  }

  static async start(model: tfl.LayersModel, options: DataParallelOptions): Promise<DataParallelTrainer> {
    const inputShape = (model.inputs[0].shape as number[]).slice(1);
    const outputSize = sizeOf(model.outputs[0].shape.slice(1));
    const widest = Math.max(1, ...model.weights.map((w) => w.shape[w.shape.length - 1] ?? 1));
    const layout: LinkLayout = {
      replicas: options.workers,
      // Batch norm sums two values per channel plus a row count.
      reduceLength: 2 * widest + 1,
      maxBatch: options.maxBatch,
      xSize: sizeOf(inputShape),
      ySize: outputSize,
      weightSizes: model.weights.map((w) => sizeOf(w.shape)),
      trainable: model.weights.map((w) => w.trainable),
    };
    const buffer = createSharedBuffer(layout);
    const workers = Array.from({ length: options.workers - 1 }, spawnReplica);
    const trainer = new DataParallelTrainer(model, options, workers, layout, buffer);
    const topology = JSON.stringify(model.toJSON(null, false));
    try {
      await Promise.all(workers.map((worker, i) => {
        const message: InitMessage = { type: 'init', buffer, layout, rank: i + 1, topology, inputShape, labelSmoothing: options.labelSmoothing };
        worker.postMessage(message);
        return trainer.next(i);
      }));
    } catch (err) {
      await trainer.close();
      throw err;
    }
    trainer.publishWeights();
    return trainer;
  }

  /** The next reply of worker `i` (rank i + 1); a crash or exit rejects. */
  private next(i: number): Promise<Reply> {
    const worker = this.workers[i];
    const gone = this.gone();
    if (gone) return Promise.reject(gone);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (message: ReplyMessage) => {
        cleanup();
        if (message.type === 'error') reject(Object.assign(new Error(`training worker ${i + 1}: ${message.message}`), { stack: message.stack }));
        else resolve(message);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`training worker ${i + 1} exited (code ${code})`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /** Copies the main model's weights to shared memory, where the workers read them each step. */
  private publishWeights(): void {
    let at = 0;
    for (const w of this.model.weights) {
      const values = valuesOf(w.read());
      this.link.weights.set(values, at);
      at += values.length;
    }
  }

  readonly step: TrainStep = async (x, y, idle) => {
    const batch = x.shape[0];
    const ranges = shardRanges(batch, this.workers.length + 1);
    if (batch > this.options.maxBatch) throw new Error(`batch of ${batch} exceeds the ${this.options.maxBatch} the replicas were set up for`);
    // A batch smaller than the replica count (a last batch of 1) runs on the main thread alone.
    const solo = ranges.some((r) => r.count === 0);
    let main: ReturnType<typeof shardGradients>;
    let replies: Promise<Reply>[] = [];
    if (solo) {
      main = shardGradients(this.model, this.options.loss, x, y, batch);
    } else {
      const gone = this.gone();
      if (gone) throw gone;
      this.link.x.set(valuesOf(x));
      this.link.y.set(valuesOf(y));
      replies = this.workers.map((worker, i) => {
        const reply = this.next(i);
        worker.postMessage({ type: 'step', ...ranges[i + 1], batchSize: batch } satisfies StepMessage);
        return reply;
      });
      const xs = tf.slice(x, 0, ranges[0].count), ys = tf.slice(y, 0, ranges[0].count);
      setReplicaSum(this.link.sum);
      this.link.idle = idle ?? null;
      const shardStart = performance.now(), waited = this.link.waitedMs;
      try {
        main = shardGradients(this.model, this.options.loss, xs, ys, batch);
        this.phases.shard += performance.now() - shardStart;
        this.phases.waitInShard += this.link.waitedMs - waited;
      } catch (err) {
        this.link.abort();
        const settled = await Promise.allSettled(replies);
        // Woken by a worker's failure: the worker's own error says what went wrong.
        const cause = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        throw err instanceof ReplicaAbort && cause ? cause.reason : err;
      } finally {
        setReplicaSum(null);
        this.link.idle = null;
        tf.dispose([xs, ys]);
      }
    }
    const waitStart = performance.now();
    const done = await Promise.all(replies);
    const updateStart = performance.now();
    this.phases.waitForWorkers += updateStart - waitStart;
    let lossSum = main.lossSum, correct = main.correct;
    for (const d of done) {
      if (d.type !== 'done') continue;
      lossSum += d.lossSum;
      correct += d.correct;
    }
    const variables = trainableVariables(this.model);
    const summed = tf.tidy(() => {
      let offset = 0;
      return variables.map((v, k) => {
        let total = main.grads[k];
        if (!solo) for (let r = 1; r <= this.workers.length; r++) total = tf.add(total, tf.tensor(this.link.grads[r].subarray(offset, offset + v.size), v.shape));
        offset += v.size;
        return total;
      });
    });
    this.options.optimizer.applyGradients(Object.fromEntries(variables.map((v, k) => [v.name, summed[k]])));
    tf.dispose([...main.grads, ...summed]);
    this.publishWeights();
    this.phases.update += performance.now() - updateStart;
    return [lossSum / batch, correct / batch];
  };

  /**
   * Validation on every replica at once: each takes whole runs of PREDICT_BATCH examples, the
   * batches predictAll would make on one thread, so each image meets the same arithmetic and the
   * result is bitwise the single-thread one (test/trainer/parallel/data-parallel.test.ts).
   */
  readonly predict: PredictExamples = async (examples, params, classCount) => {
    const chunks = shardRanges(Math.ceil(examples.length / PREDICT_BATCH), this.workers.length + 1)
      .map((r) => examples.slice(r.start * PREDICT_BATCH, (r.start + r.count) * PREDICT_BATCH));
    const replies = this.workers.map((worker, i) => {
      const share = chunks[i + 1];
      if (!share.length) return Promise.resolve(new Float32Array(0));
      const size = share[0].pixels.length;
      const pixels = new Uint8Array(share.length * size);
      share.forEach((ex, k) => pixels.set(ex.pixels, k * size));
      const reply = this.next(i);
      worker.postMessage({ type: 'predict', pixels, count: share.length, params, classCount } satisfies PredictMessage, [pixels.buffer]);
      return reply.then((r) => (r as Reply & { type: 'predicted' }).probabilities);
    });
    // The main thread's share runs while the workers run theirs; a worker's failure still rejects.
    const mine = await predictServed(this.model, chunks[0], params, classCount).catch(async (err) => {
      await Promise.allSettled(replies);
      throw err;
    });
    const out = new Float32Array(examples.length * classCount);
    out.set(mine);
    let at = mine.length;
    for (const part of await Promise.all(replies)) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  };

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
