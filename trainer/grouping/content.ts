import { distanceMatrix } from './distance.ts';
import { absorbSmall, averageLinkage, cutAt } from './linkage.ts';
import { compactIds } from './pattern.ts';

/** Names the method in manifests, reports and `npm run groups --json`. */
export const CONTENT_METHOD = 'content: polar brightness spectrum round the stained cell + colour statistics, average linkage';

interface ContentGroupingOptions {
  /** Cut height of the dendrogram, in the units of distance.ts. */
  threshold: number;
  /** Weight of colour against shape in the distance. */
  colourWeight?: number;
  /** Groups under this share of the median group size are folded into their nearest group. */
  smallFraction?: number;
  /** How many of the closest pairs of images left in different groups to return. */
  closestPairs?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ApartPair {
  a: number;
  b: number;
  distance: number;
}

export interface ContentGrouping {
  /** Group id per image, unique across classes, 0..groups-1. */
  groups: number[];
  /** Per class, the closest pairs of images that were not merged (indices into the input), nearest first. */
  closestApart: ApartPair[];
}

/**
 * On the blood-cell set the group counts move by one or two from 0.7 to 1 (copies sit well
 * under the cut, other photos well over), so it is not tuned to one figure; of the steady range
 * it takes the upper part, since merging two photos costs less than splitting one.
 */
export const DEFAULT_GROUP_THRESHOLD = 0.9;

/**
 * Recovers each image's source photo from its pixels, within each class: copies of one photo
 * (turned, flipped, shifted, zoomed, brightened) land in one group. Under-merging would leak
 * copies into validation, so where in doubt it merges.
 *
 * @example
 * const { groups } = groupByContent(images.map((im) => im.descriptor), labels, { threshold: DEFAULT_GROUP_THRESHOLD });
 */
export function groupByContent(descriptors: Float32Array[], labels: number[], options: ContentGroupingOptions): ContentGrouping {
  const keys = new Array<string>(descriptors.length);
  const closestApart: ApartPair[] = [];
  const classes = [...new Set(labels)].sort((x, y) => x - y);
  const total = descriptors.length;
  let done = 0;
  for (const label of classes) {
    const index = labels.flatMap((l, i) => (l === label ? [i] : []));
    const n = index.length;
    const matrix = distanceMatrix(index.map((i) => descriptors[i]), {
      colourWeight: options.colourWeight ?? 1,
      onRow: (row) => options.onProgress?.(done + row, total),
    });
    done += n;
    const merges = averageLinkage(Float32Array.from(matrix), n);
    const clusters = absorbSmall(cutAt(merges, n, options.threshold), (i, j) => matrix[i * n + j], options.smallFraction ?? 0.5);
    clusters.forEach((c, k) => (keys[index[k]] = `${label}:${c}`));
    for (const p of closestPairsApart(matrix, n, clusters, options.closestPairs ?? 12)) {
      closestApart.push({ a: index[p.a], b: index[p.b], distance: p.distance });
    }
  }
  return { groups: compactIds(keys), closestApart };
}

/** The closest pair of images for each pair of groups, the `count` closest of those. */
function closestPairsApart(matrix: Float32Array, n: number, clusters: number[], count: number): ApartPair[] {
  const best = new Map<string, ApartPair>();
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (clusters[i] === clusters[j]) continue;
      const key = clusters[i] < clusters[j] ? `${clusters[i]}:${clusters[j]}` : `${clusters[j]}:${clusters[i]}`;
      const d = matrix[i * n + j];
      const seen = best.get(key);
      if (!seen || d < seen.distance) best.set(key, { a: i, b: j, distance: d });
    }
  }
  return [...best.values()].sort((x, y) => x.distance - y.distance).slice(0, count);
}
