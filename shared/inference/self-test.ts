import { z } from 'zod';
import { mulberry32 } from '../random.ts';

/**
 * What the trainer's network answered for a seeded batch of inputs, read back from the files it
 * wrote. A runtime that loads the version runs the same inputs through its own forward pass and
 * compares: a difference means the files or the runtime's arithmetic are not what the trainer
 * measured, and the version must not answer.
 */
export const selfTestSchema = z.object({
  /** Seed of {@link selfTestInputs}. */
  seed: z.number().int().nonnegative(),
  /** Images in the batch. */
  count: z.number().int().positive(),
  /** The network's raw output (softmax, before any temperature), `count` rows of one value per class. */
  outputs: z.array(z.number()).min(1),
});

export type SelfTest = z.infer<typeof selfTestSchema>;

/**
 * Largest difference a runtime may show against the recorded outputs: far above float32
 * reordering noise between backends (about 1e-6 on probabilities), far below anything that
 * changes an answer.
 */
export const SELF_TEST_TOLERANCE = 1e-4;

/**
 * The self-test batch: `count` images of `height x width x channels` values, uniform in [-1, 1)
 * (the range of normalised pixels), drawn from a seeded mulberry32 so every runtime makes the
 * same bytes.
 *
 * @example
 * const x = tf.tensor4d(selfTestInputs(7, 2, 64, 64, 3), [2, 64, 64, 3]);
 */
export function selfTestInputs(seed: number, count: number, height: number, width: number, channels: number): Float32Array {
  const out = new Float32Array(count * height * width * channels);
  const next = mulberry32(seed);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

/**
 * Largest absolute difference between recorded and computed outputs; Infinity when their
 * lengths differ or a value is not finite, so a malformed answer never passes.
 *
 * @example
 * selfTestDifference([0.9, 0.1], [0.90001, 0.09999]); // ~1e-5
 */
export function selfTestDifference(recorded: ArrayLike<number>, computed: ArrayLike<number>): number {
  if (recorded.length !== computed.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < recorded.length; i++) {
    const d = Math.abs(recorded[i] - computed[i]);
    if (!(d <= worst)) worst = Number.isFinite(d) ? d : Infinity;
  }
  return worst;
}
