/** One merge of average-linkage clustering: clusters represented by items `a` and `b`. */
interface Merge {
  a: number;
  b: number;
  height: number;
}

/**
 * Average-linkage agglomerative clustering by the nearest-neighbour chain, O(n^2) time on a
 * full n x n distance matrix (which it overwrites). Average linkage rather than single:
 * one photo's copies sit close together on average, while a chain of look-alikes would join
 * unrelated photos one by one. Merges come out in chain order, not by height; the dendrogram
 * has no inversions, so every merge under a cut's height belongs to the cut.
 */
export function averageLinkage(matrix: Float32Array, n: number): Merge[] {
  const size = new Int32Array(n).fill(1);
  const active = new Uint8Array(n).fill(1);
  const merges: Merge[] = [];
  const chain: number[] = [];
  let remaining = n;
  while (remaining > 1) {
    if (!chain.length) chain.push(active.indexOf(1));
    const a = chain[chain.length - 1];
    const previous = chain.length > 1 ? chain[chain.length - 2] : -1;
    // Ties go to the previous link, which is what guarantees the chain ends in a reciprocal pair.
    let b = previous, best = previous >= 0 ? matrix[a * n + previous] : Infinity;
    for (let j = 0; j < n; j++) {
      if (j === a || !active[j]) continue;
      const d = matrix[a * n + j];
      if (d < best) [best, b] = [d, j];
    }
    if (b !== previous) {
      chain.push(b);
      continue;
    }
    chain.length -= 2;
    merges.push({ a, b, height: best });
    const sa = size[a], sb = size[b];
    for (let k = 0; k < n; k++) {
      if (!active[k] || k === a || k === b) continue;
      const d = (sa * matrix[a * n + k] + sb * matrix[b * n + k]) / (sa + sb);
      matrix[a * n + k] = matrix[k * n + a] = d;
    }
    size[a] = sa + sb;
    active[b] = 0;
    remaining--;
  }
  return merges;
}

/** Cluster of every item when the dendrogram is cut at `height`: a representative item per cluster. */
export function cutAt(merges: Merge[], n: number, height: number): number[] {
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (const m of merges) {
    if (m.height > height) continue;
    const ra = find(m.a), rb = find(m.b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  return Array.from({ length: n }, (_, i) => find(i));
}

/**
 * Folds clusters far smaller than the typical one (under `fraction` of the median size) into
 * the cluster nearest on average. They are the copies a heavy crop or turn made hard to
 * recognise; left alone they would be split from their photo's other copies, a leak. Folding
 * one into the wrong photo only makes validation stricter.
 */
export function absorbSmall(clusters: number[], distance: (i: number, j: number) => number, fraction: number): number[] {
  const members = new Map<number, number[]>();
  clusters.forEach((c, i) => (members.get(c) ?? members.set(c, []).get(c)!).push(i));
  const sizes = [...members.values()].map((m) => m.length).sort((x, y) => x - y);
  const limit = fraction * sizes[sizes.length >> 1];
  const large = [...members.entries()].filter(([, m]) => m.length >= limit);
  if (!large.length || large.length === members.size) return clusters;
  const out = [...clusters];
  for (const [, small] of [...members.entries()].filter(([, m]) => m.length < limit)) {
    let best = -1, bestDistance = Infinity;
    for (const [id, m] of large) {
      let sum = 0;
      for (const i of small) for (const j of m) sum += distance(i, j);
      const mean = sum / (small.length * m.length);
      if (mean < bestDistance) [bestDistance, best] = [mean, id];
    }
    for (const i of small) out[i] = best;
  }
  return out;
}
