import { z } from 'zod';
import { assertPixelImage, type PixelImage } from './image/image.ts';
import { needsReview, type InferencePolicy } from './inference/inference.ts';
import { largestRegion, STAIN_MARGIN } from './cell-window.ts';
import { scaleStatistics } from './domain-scale.ts';
import { inverse, quadraticForm } from './linear-algebra.ts';
import { featureDistance, featureProfileSchema, fitFeatureProfile, type FeatureRows } from './domain-features.ts';

/**
 * What a photo's colours say about whether it is like the training photos, measured on a
 * coarse grid of its pixels (near-black fill left out): the share that is purple-stained, the
 * mean chromaticity and brightness, how colourful it is, the stain's own colour, and the size
 * of the largest stained region (the cell) against the frame; then the scale of everything
 * else ({@link scaleStatistics}). A blank or single-colour frame, a grayscale copy, a strongly
 * shifted stain or a photo at another magnification falls outside the training photos' range
 * on one of them, or away from how they vary together. Last, the hue of the stain and of the
 * rest of the smear (red and green chromaticity of each): another lab's stain can keep the
 * frame's mean colour and still turn both. Older profiles name the statistics they were fitted
 * on, so new ones are added at the end.
 */
export const DOMAIN_STATISTICS = [
  'stainShare', 'redChroma', 'greenChroma', 'brightness', 'colourfulness', 'stainBlueChroma', 'cellSize',
  'fineEdges', 'edgeSharpness', 'redCellRun', 'backgroundRun',
  'stainRedChroma', 'stainGreenChroma', 'groundRedChroma', 'groundGreenChroma',
] as const;

const rangeProfile = {
  statistics: z.array(z.enum(DOMAIN_STATISTICS)),
  low: z.array(z.number()),
  high: z.array(z.number()),
  /** Allowed distance outside [low, high], as a share of high - low; fitted on validation. */
  margin: z.number().nonnegative(),
};

/**
 * Version 1: the range of each statistic over the training photos, and how far outside it still
 * counts as in domain. Version 2 adds how the statistics vary together: their training mean, the
 * inverse of their covariance, and the Mahalanobis distance from the mean that validation photos
 * stay within. A magnified cell can sit inside every single range and still far from the mean
 * along the direction in which size, stain share and sharpness move together. Version 3 adds
 * the network's own view ({@link featureProfileSchema}): a photo whose features lie far from
 * every class is out of domain too.
 */
const jointProfile = {
  ...rangeProfile,
  mean: z.array(z.number()),
  /** The inverse covariance of the statistics, row-major. */
  precision: z.array(z.number()),
  /** Mahalanobis distance from `mean` at which a photo leaves the domain; fitted on validation. */
  distance: z.number().positive(),
};
export const domainProfileSchema = z.discriminatedUnion('version', [
  z.object({ version: z.literal(1), ...rangeProfile }),
  z.object({ version: z.literal(2), ...jointProfile }),
  z.object({ version: z.literal(3), ...jointProfile, features: featureProfileSchema }),
]);

export type DomainProfile = z.infer<typeof domainProfileSchema>;

/** About 60 samples across the shorter side: enough for shares, cheap in every request. */
function gridStep(width: number, height: number): number {
  return Math.max(1, Math.round(Math.min(width, height) / 60));
}

/**
 * The domain statistics of a decoded photo, in the order of {@link DOMAIN_STATISTICS}.
 *
 * @example
 * const stats = domainStatistics(image); // [0.04, 0.35, 0.32, 0.7, ...], one per DOMAIN_STATISTICS
 */
export function domainStatistics(image: PixelImage): number[] {
  assertPixelImage(image);
  const { data, width, height, channels } = image;
  const step = gridStep(width, height);
  const columns = Math.ceil(width / step), rows = Math.ceil(height / step);
  const mask = new Uint8Array(columns * rows);
  let valid = 0, stained = 0, red = 0, green = 0, bright = 0, colourful = 0, stainBlue = 0;
  let stainRed = 0, stainGreen = 0, groundRed = 0, groundGreen = 0;
  for (let y = 0; y < height; y += step) {
    for (let x = 0; x < width; x += step) {
      const p = (y * width + x) * channels;
      const r = data[p], g = data[p + 1], b = data[p + 2], s = r + g + b;
      if (s < 60) continue;
      valid++;
      red += r / s;
      green += g / s;
      bright += s / 765;
      colourful += (Math.max(r, g, b) - Math.min(r, g, b)) / 255;
      if (b - g > STAIN_MARGIN) {
        stained++;
        stainBlue += b / s;
        stainRed += r / s;
        stainGreen += g / s;
        mask[(y / step) * columns + x / step] = 1;
      } else {
        groundRed += r / s;
        groundGreen += g / s;
      }
    }
  }
  const scale = scaleStatistics(image);
  if (!valid) return [0, 0, 0, 0, 0, 0, 0, ...scale, 0, 0, 0, 0];
  const cell = Math.sqrt(largestRegion(mask, columns).size / valid);
  const ground = valid - stained;
  const hues = [stained ? stainRed / stained : 0, stained ? stainGreen / stained : 0, ground ? groundRed / ground : 0, ground ? groundGreen / ground : 0];
  return [stained / valid, red / valid, green / valid, bright / valid, colourful / valid, stained ? stainBlue / stained : 0, cell, ...scale, ...hues];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

/**
 * The profile of the training photos: the range of each statistic (the 0.5th to 99.5th
 * percentile) with the margin set to the smallest of a few steps that leaves at most half of
 * `flagShare` of the validation photos outside it, then their mean and covariance, with the
 * distance set so that at most `flagShare` of the validation photos are out of domain in all.
 * Given the network's features of the same photos (and the training labels), a version-3
 * profile adds {@link fitFeatureProfile}'s, which flags up to another `flagShare`.
 *
 * @example
 * const profile = fitDomainProfile(train.map(domainStatistics), validation.map(domainStatistics));
 */
export function fitDomainProfile(train: number[][], validation: number[][], flagShare?: number): Extract<DomainProfile, { version: 2 }>;
export function fitDomainProfile(train: number[][], validation: number[][], flagShare: number | undefined, features: NetworkFeatures): Extract<DomainProfile, { version: 3 }>;
export function fitDomainProfile(train: number[][], validation: number[][], flagShare: number = 0.01, features?: NetworkFeatures): DomainProfile {
  const profile = fitStatistics(train, validation, flagShare);
  if (!features) return profile;
  return { ...profile, version: 3, features: fitFeatureProfile(features.train, features.labels, features.validation, flagShare) };
}

/** The network's features of the training and validation photos, for a version-3 profile. */
export interface NetworkFeatures {
  train: FeatureRows;
  /** Class index of each training photo. */
  labels: number[];
  validation: FeatureRows;
}

function fitStatistics(train: number[][], validation: number[][], flagShare: number): Extract<DomainProfile, { version: 2 }> {
  const k = DOMAIN_STATISTICS.length;
  const columns = DOMAIN_STATISTICS.map((_, j) => train.map((row) => row[j]).sort((a, b) => a - b));
  const round = (v: number) => Number(v.toPrecision(7));
  const base = {
    statistics: [...DOMAIN_STATISTICS],
    low: columns.map((c) => round(quantile(c, 0.005))),
    high: columns.map((c) => round(quantile(c, 0.995))),
  };
  const margins = [0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2];
  const outside = (margin: number) => validation.filter((row) => rangeScore(row, { ...base, margin }) > 1).length;
  const margin = margins.find((m) => outside(m) <= (flagShare / 2) * validation.length) ?? margins[margins.length - 1];
  const mean = columns.map((c) => c.reduce((sum, v) => sum + v, 0) / Math.max(c.length, 1));
  const covariance = new Float64Array(k * k);
  for (const row of train) {
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) covariance[i * k + j] += (row[i] - mean[i]) * (row[j] - mean[j]);
  }
  for (let i = 0; i < k * k; i++) covariance[i] /= Math.max(train.length - 1, 1);
  // A small ridge keeps a statistic that barely varies (or two that move as one) from dominating.
  for (let i = 0; i < k; i++) covariance[i * (k + 1)] = covariance[i * (k + 1)] * 1.001 + 1e-12;
  const profile = { version: 2 as const, ...base, margin, mean: mean.map(round), precision: [...inverse(covariance, k)].map(round), distance: 1 };
  // Validation photos inside the ranges, farthest first: the distance lets through all but the allowed few.
  const distances = validation.filter((row) => rangeScore(row, profile) <= 1).map((row) => mahalanobis(row, profile)).sort((a, b) => b - a);
  const allowed = Math.max(0, Math.floor(flagShare * validation.length) - (validation.length - distances.length));
  const distance = distances.length ? distances[Math.min(allowed, distances.length - 1)] : 1;
  return { ...profile, distance: round(Math.max(distance, 1e-6) * 1.000001) };
}

type RangeProfile = Pick<DomainProfile, 'statistics' | 'low' | 'high' | 'margin'>;

/** For each statistic, the distance from the middle of its allowed band in units of half the band; the largest. */
function rangeScore(stats: number[], profile: RangeProfile): number {
  let worst = 0;
  profile.statistics.forEach((name, k) => {
    const value = stats[DOMAIN_STATISTICS.indexOf(name)];
    const span = Math.max(profile.high[k] - profile.low[k], 1e-6);
    const half = span / 2 + profile.margin * span;
    worst = Math.max(worst, Math.abs(value - (profile.low[k] + profile.high[k]) / 2) / half);
  });
  return worst;
}

function mahalanobis(stats: number[], profile: Extract<DomainProfile, { version: 2 | 3 }>): number {
  const centred = profile.statistics.map((name, k) => stats[DOMAIN_STATISTICS.indexOf(name)] - profile.mean[k]);
  return Math.sqrt(Math.max(0, quadraticForm(profile.precision, centred)));
}

/**
 * Where a photo's statistics lie against the profile: the distance of each from the middle of
 * its allowed band (the training range plus the margin on each side) in units of half the band,
 * and for a version-2 profile the Mahalanobis distance from the training mean in units of the
 * fitted distance, and for a version-3 profile the distance of the network's `features` (what
 * its last layer reads, averaged over the variants it ran) from the nearest class in units of
 * theirs; the largest of these. Up to 1 is in domain; over 1 is out of domain. It moves
 * smoothly, so a device whose photos drift shows a rising mean before they cross 1.
 *
 * @example
 * isOutOfDomain(domainScore(domainStatistics(image), manifest.domain, features)); // true for a blank frame
 */
export function domainScore(stats: number[], profile: DomainProfile, features?: ArrayLike<number>): number {
  const parts = domainScoreParts(stats, profile, features);
  return Math.max(parts.statistics, parts.features ?? 0);
}

/**
 * The two parts {@link domainScore} takes the larger of: the photo's statistics against their
 * ranges and joint distance, and its network features against theirs (null before version 3).
 *
 * @example
 * domainScoreParts(stats, manifest.domain, features); // { statistics: 0.42, features: 0.77 }
 */
export function domainScoreParts(stats: number[], profile: DomainProfile, features?: ArrayLike<number>): { statistics: number; features: number | null } {
  const range = rangeScore(stats, profile);
  if (profile.version === 1) return { statistics: range, features: null };
  const statistics = Math.max(range, mahalanobis(stats, profile) / profile.distance);
  if (profile.version === 2) return { statistics, features: null };
  if (!features) throw new RangeError('domainScore: this profile also scores the network features; pass them');
  return { statistics, features: featureDistance(features, profile.features) / profile.features.distance };
}

/** Whether scoring against `profile` needs the network's features. */
export function needsFeatures(profile: DomainProfile | undefined): boolean {
  return profile?.version === 3;
}

/** A domain score past the edge of the allowed band. */
export function isOutOfDomain(score: number): boolean {
  return score > 1;
}

/** Why an answer is flagged for review: its confidence is under the threshold, or the photo is unlike the training photos. */
export const REVIEW_REASONS = ['low_confidence', 'out_of_domain'] as const;
export type ReviewReason = (typeof REVIEW_REASONS)[number];

/**
 * The reasons to flag an answer, the same in `npm run evaluate` and the Worker; an answer is
 * flagged (`review: true`) when there is any. `score` is null for a version without a profile.
 *
 * @example
 * reviewReasons(0.62, 1.8, manifest.inference); // ['low_confidence', 'out_of_domain']
 */
export function reviewReasons(confidence: number, score: number | null, policy: InferencePolicy): ReviewReason[] {
  const reasons: ReviewReason[] = [];
  if (needsReview(confidence, policy)) reasons.push('low_confidence');
  if (score !== null && isOutOfDomain(score)) reasons.push('out_of_domain');
  return reasons;
}
