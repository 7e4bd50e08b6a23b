import type { PixelImage } from '../../../shared/index.ts';
import { Rng } from '../../../trainer/data/rng.ts';

export interface CopyOptions {
  /** How pixels outside the photo are filled, as Keras' ImageDataGenerator fill_mode. */
  fill: 'constant' | 'nearest';
}

/**
 * An augmented copy of a photo the way Keras' ImageDataGenerator makes them: rotation by any
 * angle, horizontal and vertical flips, shifts up to 15% of each side, zoom 0.85 to 1.15 and
 * brightness 0.8 to 1.2, about the centre, same size as the original, nearest-neighbour
 * sampling. Test data for content grouping, made from real photos.
 */
export function augmentedCopy(image: PixelImage, rng: Rng, options: CopyOptions): PixelImage {
  const { width, height, channels, data } = image;
  const angle = rng.next() * 2 * Math.PI;
  const zoom = 0.85 + 0.3 * rng.next();
  const flipX = rng.next() < 0.5 ? -1 : 1, flipY = rng.next() < 0.5 ? -1 : 1;
  const shiftX = (rng.next() - 0.5) * 0.3 * width, shiftY = (rng.next() - 0.5) * 0.3 * height;
  const brightness = 0.8 + 0.4 * rng.next();
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const out = new Uint8Array(width * height * 3);
  const cx = width / 2, cy = height / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Inverse map: output pixel -> source pixel.
      const dx = (x - cx - shiftX) / zoom, dy = (y - cy - shiftY) / zoom;
      let sx = (cos * dx + sin * dy) * flipX + cx, sy = (-sin * dx + cos * dy) * flipY + cy;
      const inside = sx >= 0 && sy >= 0 && sx < width && sy < height;
      if (!inside && options.fill === 'constant') continue;
      sx = Math.min(width - 1, Math.max(0, Math.floor(sx)));
      sy = Math.min(height - 1, Math.max(0, Math.floor(sy)));
      const p = (sy * width + sx) * channels, q = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) out[q + c] = Math.min(255, Math.round(data[p + c] * brightness));
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** Adjusted Rand index of two labellings (1: the same partition, about 0: chance). */
export function adjustedRandIndex(a: number[], b: number[]): number {
  const pairs = (n: number) => (n * (n - 1)) / 2;
  const joint = new Map<string, number>(), rows = new Map<number, number>(), cols = new Map<number, number>();
  a.forEach((x, i) => {
    joint.set(`${x}:${b[i]}`, (joint.get(`${x}:${b[i]}`) ?? 0) + 1);
    rows.set(x, (rows.get(x) ?? 0) + 1);
    cols.set(b[i], (cols.get(b[i]) ?? 0) + 1);
  });
  const sum = (m: Map<unknown, number>) => [...m.values()].reduce((s, n) => s + pairs(n), 0);
  const index = sum(joint), rowSum = sum(rows), colSum = sum(cols), total = pairs(a.length);
  const expected = (rowSum * colSum) / total;
  const max = (rowSum + colSum) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}
