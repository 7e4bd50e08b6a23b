import { z } from 'zod';
import { assertPixelImage, type PixelImage } from './image/image.ts';
import { needsReview, type InferencePolicy } from './inference/inference.ts';
import { largestRegion, STAIN_MARGIN } from './cell-window.ts';
import { scaleStatistics } from './domain-scale.ts';
import { inverse, quadraticForm } from './linear-algebra.ts';

/**
 * What a photo's colours say about whether it is like the training photos, measured on a
 * coarse grid of its pixels (near-black fill left out): the share that is purple-stained, the
 * mean chromaticity and brightness, how colourful it is, the stain's own colour, and the size
 * of the largest stained region (the cell) against the frame; then the scale of everything
 * else ({@link scaleStatistics}). A blank or single-colour frame, a grayscale copy, a strongly
 * shifted stain or a photo at another magnification falls outside the training photos' range
 * on one of them, or away from how they vary together.
 */
export const DOMAIN_STATISTICS = [
  'stainShare', 'redChroma', 'greenChroma', 'brightness', 'colourfulness', 'stainBlueChroma', 'cellSize',
  'fineEdges', 'edgeSharpness', 'redCellRun', 'backgroundRun',
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
 * along the direction in which size, stain share and sharpness move together.
 */
export const domainProfileSchema = z.discriminatedUnion('version', [
  z.object({ version: z.literal(1), ...rangeProfile }),
  z.object({
    version: z.literal(2),
    ...rangeProfile,
    mean: z.array(z.number()),
    /** The inverse covariance of the statistics, row-major. */
    precision: z.array(z.number()),
    /** Mahalanobis distance from `mean` at which a photo leaves the domain; fitted on validation. */
    distance: z.number().positive(),
  }),
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
 * const stats = domainStatistics(image); // [0.04, 0.35, 0.32, 0.7, 0.12, 0.45, 0.2]
 */
export function domainStatistics(image: PixelImage): number[] {
  assertPixelImage(image);
  const { data, width, height, channels } = image;
  const step = gridStep(width, height);
  const columns = Math.ceil(width / step), rows = Math.ceil(height / step);
  const mask = new Uint8Array(columns * rows);
  let valid = 0, stained = 0, red = 0, green = 0, bright = 0, colourful = 0, stainBlue = 0;
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
        mask[(y / step) * columns + x / step] = 1;
      }
    }
  }
  const scale = scaleStatistics(image);
  if (!valid) return [0, 0, 0, 0, 0, 0, 0, ...scale];
  const cell = Math.sqrt(largestRegion(mask, columns).size / valid);
  return [stained / valid, red / valid, green / valid, bright / valid, colourful / valid, stained ? stainBlue / stained : 0, cell, ...scale];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

/**
 * The profile of the training photos: the range of each statistic (the 0.5th to 99.5th
 * percentile) with the margin set to the smallest of a few steps that leaves at most half of
 * `flagShare` of the validation photos outside it, then their mean and covariance, with the
 * distance set so that at most `flagShare` of the validation photos are out of domain in all.
 *
 * @example
 * const profile = fitDomainProfile(train.map(domainStatistics), validation.map(domainStatistics));
 */
export function fitDomainProfile(train: number[][], validation: number[][], flagShare = 0.01): DomainProfile {
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

function mahalanobis(stats: number[], profile: Extract<DomainProfile, { version: 2 }>): number {
  const centred = profile.statistics.map((name, k) => stats[DOMAIN_STATISTICS.indexOf(name)] - profile.mean[k]);
  return Math.sqrt(Math.max(0, quadraticForm(profile.precision, centred)));
}

/**
 * Where a photo's statistics lie against the profile: the distance of each from the middle of
 * its allowed band (the training range plus the margin on each side) in units of half the band,
 * and for a version-2 profile the Mahalanobis distance from the training mean in units of the
 * fitted distance; the largest of these. Up to 1 is in domain; over 1 is out of domain. It moves
 * smoothly, so a device whose photos drift shows a rising mean before they cross 1.
 *
 * @example
 * isOutOfDomain(domainScore(domainStatistics(image), manifest.domain)); // true for a blank frame
 */
export function domainScore(stats: number[], profile: DomainProfile): number {
  const range = rangeScore(stats, profile);
  return profile.version === 2 ? Math.max(range, mahalanobis(stats, profile) / profile.distance) : range;
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
