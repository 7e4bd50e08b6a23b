import { STAIN_MARGIN, type PixelImage } from '../shared/index.ts';

export const DESCRIPTOR_LENGTH = 12;

/**
 * A fingerprint of a photo meant to survive the augmentations found in cell datasets
 * (rotation by any angle, flips, shifts): size and elongation of the stained region,
 * mean and spread of its colour, and the mean colour of the rest of the smear. All are
 * invariant to where the cell sits and how it is turned. Used only to group near-duplicates
 * for validation; it is approximate (see README), so `--group-pattern` wins when names carry
 * the source photo.
 */
export function groupDescriptor(image: PixelImage): Float32Array {
  const { data, width, height, channels } = image;
  let valid = 0, n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, bgN = 0;
  const c = [0, 0, 0], c2 = [0, 0, 0], bg = [0, 0, 0];
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      const p = (y * width + x) * channels;
      const r = data[p], g = data[p + 1], b = data[p + 2];
      // Black corners come from rotation padding, not from the photo: leave them out.
      if (r + g + b < 30) continue;
      valid++;
      if (b - g > STAIN_MARGIN) {
        n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
        c[0] += r; c[1] += g; c[2] += b;
        c2[0] += r * r; c2[1] += g * g; c2[2] += b * b;
      } else {
        bgN++; bg[0] += r; bg[1] += g; bg[2] += b;
      }
    }
  }
  const out = new Float32Array(DESCRIPTOR_LENGTH);
  if (n > 0) {
    const mx = sx / n, my = sy / n;
    const vxx = sxx / n - mx * mx, vyy = syy / n - my * my, vxy = sxy / n - mx * my;
    const half = (vxx + vyy) / 2;
    const disc = Math.sqrt(Math.max(0, half * half - (vxx * vyy - vxy * vxy)));
    const scale = Math.min(width, height) / 6;
    out[0] = 2 * Math.sqrt(n / Math.max(valid, 1));
    out[1] = Math.sqrt(half + disc) / scale;
    out[2] = Math.sqrt(Math.max(0, half - disc)) / scale;
    for (let k = 0; k < 3; k++) {
      out[3 + k] = c[k] / n / 255;
      out[6 + k] = Math.sqrt(Math.max(0, c2[k] / n - (c[k] / n) ** 2)) / 64;
    }
  }
  for (let k = 0; k < 3; k++) out[9 + k] = bgN ? bg[k] / bgN / 255 : 0;
  return out;
}

function distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

/**
 * Groups near-duplicates within each class by single linkage: two images whose
 * descriptors are closer than `threshold` share a group, and so transitively. Over-merging
 * only makes validation stricter; under-merging would leak copies into validation.
 * Returns a group id per image (ids are unique across classes).
 */
export function groupBySimilarity(descriptors: Float32Array[], labels: number[], threshold: number): number[] {
  const parent = descriptors.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  for (let i = 0; i < descriptors.length; i++) {
    for (let j = i + 1; j < descriptors.length; j++) {
      if (labels[i] !== labels[j]) continue;
      if (distance(descriptors[i], descriptors[j]) < threshold) {
        const a = find(i), b = find(j);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  }
  return compactIds(descriptors.map((_, i) => find(i)));
}

/**
 * Groups by a regular expression on file names: images whose first capture group (or
 * whole match) is equal share a group within their class.
 */
export function groupByPattern(paths: string[], labels: number[], pattern: RegExp): number[] {
  return compactIds(
    paths.map((p, i) => {
      const name = p.slice(p.lastIndexOf('/') + 1);
      const m = pattern.exec(name);
      return `${labels[i]}:${m ? (m[1] ?? m[0]) : name}`;
    }),
  );
}

function compactIds<T>(keys: T[]): number[] {
  const ids = new Map<T, number>();
  return keys.map((k) => {
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  });
}
