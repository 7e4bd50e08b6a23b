import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { PreprocessingParams } from '../../shared/index.ts';
import { dihedralMaps, type AugmentOptions } from '../data/augment.ts';
import { BatchBuilder, makeBatch, type Example } from '../data/batches.ts';
import type { Checkpoint, CheckpointState } from './checkpoint.ts';
import type { EpochRecord } from '../report/types.ts';
import { cosineLearningRate, epochOrder } from '../data/epoch-plan.ts';
import { fastAdam, prepareModelForTraining } from '../kernels/index.ts';
import { defaultWorkers, type PredictExamples } from '../parallel/data-parallel.ts';
import { createStepRunner } from '../parallel/step-runner.ts';
import { smoothedCrossEntropy } from '../parallel/shard-step.ts';
import { Rng } from '../data/rng.ts';

export interface LoopOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Epochs without a better validation loss before stopping. */
  patience: number;
  /**
   * Which epoch's weights the model ends with: `best`, the lowest validation loss; `last`, the
   * end of the run, which does not hang on a validation split of a few dozen photos.
   */
  keepEpoch?: 'best' | 'last';
  learningRate: number;
  /** `cosine`: warm-up then cosine decay over `epochs`; `constant`: `learningRate` throughout. */
  schedule: 'constant' | 'cosine';
  /** Share of the target moved evenly onto all classes (0 = plain one-hot). */
  labelSmoothing: number;
  /** Source group of each training example (same order as `train`), for per-class draws. */
  groups: number[];
  /** Images drawn per class each epoch, balanced over source groups; 0 = every image once. */
  perClass: number;
  augment: AugmentOptions;
  /** Data-parallel replicas (threads) per step; default: defaultWorkers() for the active backend. */
  workers?: number;
  checkpoint?: Checkpoint;
  /** Settings fingerprint stored with checkpoints; resume refuses a mismatch. */
  runKey: string;
  resume?: boolean;
  /** Polled between batches; true stops after the last written checkpoint. */
  shouldStop?: () => boolean;
  onEpochStart?: (epoch: number, batches: number) => void;
  onBatch?: (batch: number, imagesPerSecond: number) => void;
  onEpochEnd?: (record: EpochRecord) => void;
}

interface LoopResult {
  history: EpochRecord[];
  /** 1-based epoch whose weights the model now holds. */
  bestEpoch: number;
  stop: 'completed' | 'early' | 'interrupted';
  elapsedMs: number;
}

function validate(predict: PredictExamples, val: Example[], params: PreprocessingParams, classCount: number) {
  // Compiled from this epoch's weights, so the epoch is scored as the Worker would serve it; shared
  // among the training replicas, with the one-thread result to the bit.
  return predict(val, params, classCount).then((probs) => {
    let loss = 0, correct = 0;
    val.forEach((ex, i) => {
      const row = probs.subarray(i * classCount, (i + 1) * classCount);
      loss -= Math.log(Math.max(row[ex.label], 1e-7));
      let best = 0;
      for (let c = 1; c < classCount; c++) if (row[c] > row[best]) best = c;
      if (best === ex.label) correct++;
    });
    return { valLoss: loss / val.length, valAccuracy: correct / val.length };
  });
}

/** tfjs's Adam reads its rate on every step but offers no setter; the field is plain at run time. */
function setLearningRate(optimizer: tf.AdamOptimizer, rate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}

/**
 * Trains with early stopping on validation loss and keeps the best epoch's weights (or the last
 * epoch's, with `keepEpoch: 'last'`).
 * Every random draw comes from the seed and the epoch number, so a resumed run shuffles
 * and augments exactly as an uninterrupted one would.
 */
export async function trainLoop(
  model: tfl.LayersModel,
  train: Example[],
  val: Example[],
  params: PreprocessingParams,
  classCount: number,
  options: LoopOptions,
): Promise<LoopResult> {
  const optimizer = fastAdam(options.learningRate);
  const loss = smoothedCrossEntropy(options.labelSmoothing);
  prepareModelForTraining(model);
  model.compile({ optimizer, loss, metrics: ['accuracy'] });
  const maps = dihedralMaps(params.width);
  const keepLast = options.keepEpoch === 'last';
  let state: CheckpointState = {
    runKey: options.runKey, epochsDone: 0, history: [], bestEpoch: 0, bestValLoss: Infinity, epochsSinceBest: 0, elapsedMs: 0,
  };
  let best: tf.Tensor[] = model.getWeights().map((w) => w.clone());
  if (options.resume && options.checkpoint) {
    const saved = await options.checkpoint.readState();
    if (saved && saved.runKey === options.runKey) {
      // Adam creates its moments on the first step: take one throwaway step so they exist to be overwritten.
      const { x, y } = makeBatch(train.slice(0, 1), params, classCount);
      await model.trainOnBatch(x, y);
      tf.dispose([x, y]);
      tf.dispose(best);
      best = await options.checkpoint.restore(model, optimizer);
      state = saved;
    }
  }
  const started = Date.now() - state.elapsedMs;
  let stop: LoopResult['stop'] = 'completed';
  const runner = await createStepRunner(model, {
    workers: options.workers ?? defaultWorkers(), loss, labelSmoothing: options.labelSmoothing, optimizer, maxBatch: options.batchSize,
  });
  try {
    for (let epoch = state.epochsDone + 1; epoch <= options.epochs; epoch++) {
      const epochStart = Date.now();
      const rng = new Rng(options.seed * 7919 + epoch);
      const order = epochOrder(train.map((ex) => ex.label), options.groups, { perClass: options.perClass }, rng);
      const batches = Math.ceil(order.length / options.batchSize);
      if (options.schedule === 'cosine') setLearningRate(optimizer, cosineLearningRate(options.learningRate, epoch, options.epochs));
      options.onEpochStart?.(epoch, batches);
      let lossSum = 0, accSum = 0, seen = 0;
      const builder = (b: number) => new BatchBuilder(
        order.slice(b * options.batchSize, (b + 1) * options.batchSize).map((i) => train[i]), params, classCount, { options: options.augment, maps, rng },
      );
      let next = builder(0);
      for (let b = 0; b < batches; b++) {
        if (options.shouldStop?.()) {
          stop = 'interrupted';
          break;
        }
        const { x, y } = next.finish();
        const n = x.shape[0];
        // The next batch is prepared in this step's waits for the other replicas; only after this
        // one is complete, so the random draws come in the order of building them one by one.
        next = builder(b + 1);
        const [batchLoss, acc] = await runner.step(x, y, next.step);
        tf.dispose([x, y]);
        lossSum += batchLoss * n;
        accSum += acc * n;
        seen += n;
        options.onBatch?.(b + 1, (seen * 1000) / Math.max(1, Date.now() - epochStart));
      }
      if (stop === 'interrupted') break;
      const { valLoss, valAccuracy } = await validate(runner.predict, val, params, classCount);
      const record: EpochRecord = {
        epoch, loss: lossSum / seen, accuracy: accSum / seen, valLoss, valAccuracy, durationMs: Date.now() - epochStart,
      };
      state.history.push(record);
      state.epochsDone = epoch;
      const improved = valLoss < state.bestValLoss;
      if (improved) {
        state.bestValLoss = valLoss;
        state.bestEpoch = epoch;
        state.epochsSinceBest = 0;
      } else {
        state.epochsSinceBest++;
      }
      // The checkpoint's "best" weights are the ones the run will end with, so a resumed run does too.
      if (improved || keepLast) {
        tf.dispose(best);
        best = model.getWeights().map((w) => w.clone());
      }
      state.elapsedMs = Date.now() - started;
      await options.checkpoint?.save(state, model, best, optimizer);
      options.onEpochEnd?.(record);
      if (state.epochsSinceBest >= options.patience) {
        stop = 'early';
        break;
      }
    }
  } finally {
    await runner.close();
  }
  model.setWeights(best);
  tf.dispose(best);
  return { history: state.history, bestEpoch: keepLast ? state.epochsDone : state.bestEpoch, stop, elapsedMs: Date.now() - started };
}
