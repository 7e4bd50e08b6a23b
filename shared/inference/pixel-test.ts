import { z } from 'zod';
import type { PixelImage } from '../image/image.ts';
import { mulberry32 } from '../random.ts';

/**
 * What a version answered, when the trainer wrote it, for a seeded synthetic photo taken through
 * the whole serving path: the manifest's preprocessing (crop, resize, mean and std), the network,
 * its test-time averaging and temperature, and the class names. The self-test feeds the network
 * already-normalised inputs, so it cannot see a changed manifest; this can: a runtime that loads
 * the version answers the same photo and compares, class by class.
 */
export const pixelTestSchema = z.object({
  /** Seed of {@link pixelTestImage}. */
  seed: z.number().int().nonnegative(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** The final probability of each class, by name. */
  probabilities: z.record(z.string(), z.number()),
  /** Its score against the manifest's domain profile, when there is one (recorded since the feature check). */
  domainScore: z.number().nonnegative().optional(),
  /** The part of it from the network's features, for a profile that scores them: the larger part alone would hide a change to the other. */
  featureScore: z.number().nonnegative().optional(),
});

export type PixelTest = z.infer<typeof pixelTestSchema>;

/** The photo's size: about a training photo's, larger than any input it is cropped and resized to. */
export const PIXEL_TEST_SIZE = { width: 320, height: 240 } as const;

/**
 * A seeded synthetic smear photo, the same bytes in every runtime: a pale, noisy background
 * with a purple-stained disc off its centre (so a stain crop, and where it lands, matter) and a
 * paler halo around it.
 *
 * @example
 * const input = preprocess(pixelTestImage(11, 320, 240), manifest.preprocessing);
 */
export function pixelTestImage(seed: number, width: number, height: number): PixelImage {
  const next = mulberry32(seed);
  const radius = Math.min(width, height) * (0.12 + 0.06 * next());
  const cx = width * (0.3 + 0.4 * next());
  const cy = height * (0.3 + 0.4 * next());
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++, i += 4) {
      const d = Math.hypot(x - cx, y - cy) / radius;
      const [r, g, b] = d < 1 ? [110, 60, 160] : d < 1.6 ? [200, 150, 190] : [232, 214, 220];
      const noise = (next() - 0.5) * 24;
      data[i] = r + noise;
      data[i + 1] = g + noise;
      data[i + 2] = b + noise;
      data[i + 3] = 255;
    }
  }
  return { data, width, height, channels: 4 };
}

/**
 * Largest difference between the recorded and computed probability of any of `classes`;
 * Infinity when a class is missing on either side or a value is not finite.
 *
 * @example
 * pixelTestDifference({ A: 0.9, B: 0.1 }, { A: 0.90001, B: 0.09999 }, ['A', 'B']); // ~1e-5
 */
export function pixelTestDifference(recorded: Record<string, number>, computed: Record<string, number>, classes: string[]): number {
  if (Object.keys(recorded).length !== classes.length) return Infinity;
  let worst = 0;
  for (const label of classes) {
    const d = Math.abs(recorded[label] - computed[label]);
    if (!(d <= worst)) worst = Number.isFinite(d) ? d : Infinity;
  }
  return worst;
}
