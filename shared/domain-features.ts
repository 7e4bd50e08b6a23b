import { z } from 'zod';
import { lowerTimes, whitening } from './linear-algebra.ts';

/**
 * What the network itself makes of in-domain photos: the activations its last layer reads (the
 * pooled features), modelled as one Gaussian per class with a shared covariance. A photo's
 * features far from every class's centre are unlike anything the network learnt from, however
 * usual its colours look: a stain of another hue, an unfamiliar kind of cell, a photo of
 * something else. Stored whitened, so scoring is one triangular product and a few lengths.
 */
export const featureProfileSchema = z
  .object({
    /** Length of the feature vector. */
    size: z.number().int().positive(),
    /** `W` packed by rows (row i holds i + 1 values), `Wᵀ W` the inverse of the within-class covariance. */
    whitening: z.array(z.number()),
    /** Each class's mean feature vector, whitened (`W μ`): one per class with training photos. */
    centres: z.array(z.array(z.number())).min(1),
    /** Distance from the nearest centre at which a photo leaves the domain; fitted on validation. */
    distance: z.number().positive(),
  })
  .refine((p) => p.whitening.length === (p.size * (p.size + 1)) / 2 && p.centres.every((c) => c.length === p.size), {
    message: 'whitening must hold size * (size + 1) / 2 values and each centre size values',
  });

export type FeatureProfile = z.infer<typeof featureProfileSchema>;

/** Features of a set of photos: `count` rows of `size` values, flat. */
export interface FeatureRows {
  values: ArrayLike<number>;
  size: number;
}

const rowsIn = ({ values, size }: FeatureRows) => Math.floor(values.length / size);

/**
 * How far a photo's features lie from the nearest class centre, in units of the within-class
 * spread (a Mahalanobis distance); over `profile.distance` is out of domain.
 *
 * @example
 * featureDistance(features, manifest.domain.features) / manifest.domain.features.distance; // over 1: out of domain
 */
export function featureDistance(features: ArrayLike<number>, profile: FeatureProfile): number {
  if (features.length !== profile.size) throw new RangeError(`featureDistance: expected ${profile.size} features, got ${features.length}`);
  const y = lowerTimes(profile.whitening, features);
  let best = Infinity;
  for (const centre of profile.centres) {
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += (y[i] - centre[i]) ** 2;
    best = Math.min(best, sum);
  }
  return Math.sqrt(best);
}

/**
 * Fits the feature profile: class means and the pooled within-class covariance of the training
 * photos' features (shrunk towards its mean variance by 1%, so a feature that never fires does
 * not make the distance infinite), and the distance that all but `flagShare` of the validation
 * photos stay within.
 *
 * @example
 * const profile = fitFeatureProfile({ values: trainFeatures, size: 96 }, trainLabels, { values: valFeatures, size: 96 });
 */
export function fitFeatureProfile(train: FeatureRows, labels: number[], validation: FeatureRows, flagShare = 0.01): FeatureProfile {
  const { size: d, values } = train;
  const n = rowsIn(train);
  if (labels.length !== n || validation.size !== d) throw new RangeError('fitFeatureProfile: labels or validation do not match the training features');
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  const means = new Map(classes.map((c) => [c, new Float64Array(d)]));
  const counts = new Map(classes.map((c) => [c, 0]));
  for (let r = 0; r < n; r++) {
    const mean = means.get(labels[r])!;
    counts.set(labels[r], counts.get(labels[r])! + 1);
    for (let i = 0; i < d; i++) mean[i] += values[r * d + i];
  }
  for (const c of classes) means.get(c)!.forEach((v, i, m) => (m[i] = v / counts.get(c)!));
  const covariance = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const mean = means.get(labels[r])!;
    for (let i = 0; i < d; i++) centred[i] = values[r * d + i] - mean[i];
    for (let i = 0; i < d; i++) for (let j = 0; j <= i; j++) covariance[i * d + j] += centred[i] * centred[j];
  }
  const dof = Math.max(n - classes.length, 1);
  let trace = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) covariance[j * d + i] = covariance[i * d + j] /= dof;
    trace += covariance[i * d + i];
  }
  const ridge = 0.01 * (trace / d) + 1e-9;
  for (let i = 0; i < d; i++) covariance[i * d + i] += ridge;
  const round = (v: number) => Number(v.toPrecision(6));
  const profile = {
    size: d,
    whitening: [...whitening(covariance, d)].map(round),
    centres: [] as number[][],
    distance: 1,
  };
  profile.centres = classes.map((c) => [...lowerTimes(profile.whitening, means.get(c)!)].map(round));
  const distances = Array.from({ length: rowsIn(validation) }, (_, r) => featureDistance(Array.prototype.slice.call(validation.values, r * d, (r + 1) * d), profile)).sort((a, b) => b - a);
  const allowed = Math.floor(flagShare * distances.length);
  const distance = distances.length ? distances[Math.min(allowed, distances.length - 1)] : 1;
  return { ...profile, distance: round(Math.max(distance, 1e-6) * 1.00001) };
}

/**
 * One photo's features when the network ran it as several variants (test-time averaging): the
 * mean of the `rows.length / size` rows.
 *
 * @example
 * const features = meanFeatures(await featureTensor.data(), 96); // 8 rows of 96 -> 96
 */
export function meanFeatures(rows: ArrayLike<number>, size: number): Float64Array {
  const count = Math.floor(rows.length / size);
  if (count * size !== rows.length || count === 0) throw new RangeError(`meanFeatures: ${rows.length} values are not rows of ${size}`);
  const out = new Float64Array(size);
  for (let r = 0; r < count; r++) for (let i = 0; i < size; i++) out[i] += rows[r * size + i] / count;
  return out;
}
