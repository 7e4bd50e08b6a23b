/**
 * A seeded mulberry32 generator of uniform numbers in [0, 1): small, fast and the same in Node
 * and workerd, so a seed gives the same draws wherever it runs (the trainer's shuffles, the
 * self-test's inputs).
 *
 * @example
 * const next = mulberry32(42);
 * next(); // 0.6011037519201636
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
