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

  /** Standard normal (Box-Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  /** Gamma(shape, 1), by Marsaglia and Tsang; shapes under 1 boosted by a uniform power. */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(1 - this.next(), 1 / shape);
    const d = shape - 1 / 3, c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number, v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - this.next();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  }

  /** Beta(a, b), from two gamma draws. */
  beta(a: number, b: number): number {
    const x = this.gamma(a), sum = x + this.gamma(b);
    // Both draws can underflow to 0 for shapes far below 1.
    return sum > 0 ? x / sum : this.next() < a / (a + b) ? 1 : 0;
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
