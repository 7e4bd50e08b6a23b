import { z } from 'zod';

/**
 * How a version's raw softmax output becomes the answer a lab sees: an optional average over
 * the cell's dihedral symmetries, a temperature fitted on validation data, and the confidence
 * under which a cell is flagged for a technician's review. Optional in the manifest: versions
 * without it answer with the model's own probabilities and never flag a review.
 */
export const inferenceSchema = z.object({
  /** `dihedral8`: average the 8 flips/quarter turns of the input (a cell has no up or left). */
  tta: z.enum(['none', 'dihedral8']),
  /** Softmax temperature: probabilities are softmax(log p / temperature). 1 leaves them as they are. */
  temperature: z.number().positive(),
  /** Top probability (after temperature) under which `review: true` is set. 0 never flags. */
  reviewThreshold: z.number().min(0).max(1),
});

export type InferencePolicy = z.infer<typeof inferenceSchema>;

/** The policy of a version whose manifest carries none. */
export const plainInference: InferencePolicy = { tta: 'none', temperature: 1, reviewThreshold: 0 };

/**
 * Rescales one image's probabilities by a temperature, as softmax(log p / T), in float64.
 * A temperature above 1 softens over-confident output; the ranking never changes.
 *
 * @example
 * applyTemperature([0.9, 0.1], 2); // [0.75, 0.25]
 */
export function applyTemperature(probabilities: ArrayLike<number>, temperature: number): number[] {
  const logs = Array.from(probabilities, (p) => Math.log(Math.max(p, 1e-12)) / temperature);
  const top = Math.max(...logs);
  const exps = logs.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
}

/**
 * Whether a cell whose top probability is `confidence` goes to a technician: under the
 * threshold, or always when the threshold is 1 (the trainer's choice when no threshold
 * reached its accuracy target, so that a saturated probability of exactly 1 is flagged too).
 *
 * @example
 * needsReview(0.62, { tta: 'none', temperature: 1.3, reviewThreshold: 0.8 }); // true
 */
export function needsReview(confidence: number, policy: InferencePolicy): boolean {
  return policy.reviewThreshold >= 1 || confidence < policy.reviewThreshold;
}

/** Number of inputs `dihedralVariants` makes for a policy. */
export function variantCount(policy: InferencePolicy): number {
  return policy.tta === 'dihedral8' ? 8 : 1;
}

/**
 * The 8 dihedral transforms (identity, 3 quarter turns, and the mirror of each) of one
 * normalised HWC image, concatenated into one batch of `8 * side * side * channels` values.
 * Square images only: the model input always is. With `tta: 'none'` the input is returned.
 *
 * @example
 * const batch = dihedralVariants(input, 64, 3, policy); // tf.tensor4d(batch, [8, 64, 64, 3])
 */
export function dihedralVariants(input: Float32Array, side: number, channels: number, policy: InferencePolicy): Float32Array {
  if (policy.tta === 'none') return input;
  const plane = side * side * channels;
  if (input.length !== plane) throw new RangeError(`dihedralVariants: expected ${plane} values for ${side}x${side}x${channels}, got ${input.length}`);
  const out = new Float32Array(plane * 8);
  const last = side - 1;
  // Source (x, y) of destination (u, v) for each of the 8 transforms.
  const maps: ((u: number, v: number) => [number, number])[] = [
    (u, v) => [u, v],
    (u, v) => [v, last - u],
    (u, v) => [last - u, last - v],
    (u, v) => [last - v, u],
    (u, v) => [last - u, v],
    (u, v) => [v, u],
    (u, v) => [u, last - v],
    (u, v) => [last - v, last - u],
  ];
  maps.forEach((map, k) => {
    for (let v = 0; v < side; v++) {
      for (let u = 0; u < side; u++) {
        const [x, y] = map(u, v);
        const from = (y * side + x) * channels;
        const to = k * plane + (v * side + u) * channels;
        for (let c = 0; c < channels; c++) out[to + c] = input[from + c];
      }
    }
  });
  return out;
}

/**
 * Turns the model's output for one image (`variantCount` rows of class probabilities) into the
 * final calibrated probabilities: mean over the variants, then the temperature.
 *
 * @example
 * const probabilities = finalProbabilities(await output.data(), classes.length, policy);
 */
export function finalProbabilities(rows: ArrayLike<number>, classCount: number, policy: InferencePolicy): number[] {
  const count = variantCount(policy);
  if (rows.length !== count * classCount) throw new RangeError(`finalProbabilities: expected ${count * classCount} values, got ${rows.length}`);
  const mean = new Array<number>(classCount).fill(0);
  for (let k = 0; k < count; k++) for (let c = 0; c < classCount; c++) mean[c] += rows[k * classCount + c] / count;
  return applyTemperature(mean, policy.temperature);
}
