import { mulberry32 } from '../../shared/index.ts';

/**
 * Small seeded PRNG (mulberry32): every random choice of a run (split, shuffling,
 * augmentation) draws from one of these, so the same --seed repeats the run.
 */
export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A new generator whose stream does not overlap this one's in practice. */
  fork(salt: number): Rng {
    return new Rng(Math.imul(this.int(0xffffffff) ^ salt, 0x85ebca6b));
  }
}
