import type * as tfl from '@tensorflow/tfjs-layers';
import { predictServed } from '../training/forward.ts';
import { DataParallelTrainer, type DataParallelOptions, type PredictExamples, type TrainStep } from './data-parallel.ts';

interface StepRunner {
  step: TrainStep;
  /** Validation over the same replicas (the main thread's predictServed for one). */
  predict: PredictExamples;
  /** Replicas in use (1: the main thread alone, through `trainOnBatch`). */
  workers: number;
  close(): Promise<void>;
  /** Main-thread time per phase with several replicas (DataParallelTrainer.phases). */
  phases?: DataParallelTrainer['phases'];
}

/**
 * The training step for `model` (compiled with `options.optimizer` and `options.loss`): plain
 * `trainOnBatch` for one replica, a DataParallelTrainer for more.
 */
export async function createStepRunner(model: tfl.LayersModel, options: DataParallelOptions): Promise<StepRunner> {
  if (options.workers <= 1) {
    return {
      workers: 1, step: async (x, y) => (await model.trainOnBatch(x, y)) as [number, number],
      predict: (examples, params, classCount) => predictServed(model, examples, params, classCount), close: async () => {},
    };
  }
  const trainer = await DataParallelTrainer.start(model, options);
  return { workers: options.workers, step: trainer.step, predict: trainer.predict, close: () => trainer.close(), phases: trainer.phases };
}
