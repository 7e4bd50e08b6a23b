import { Rng } from './rng.ts';

export interface AugmentOptions {
  /** Random flips and 90-degree turns: a cell has no up or left. */
  dihedral: boolean;
  /** Maximum relative change of brightness and contrast (0.1 = +-10%). */
  brightness: number;
  /** Maximum relative change of each colour channel's gain, for stain variation. */
  color: number;
}

export const defaultAugment: AugmentOptions = { dihedral: true, brightness: 0.1, color: 0.05 };
export const noAugment: AugmentOptions = { dihedral: false, brightness: 0, color: 0 };

/**
 * Index map of one of the 8 symmetries of a square (flips and quarter turns):
 * `map[dst] = src` pixel index. Precomputed per input size.
 */
export function dihedralMaps(size: number): Uint32Array[] {
  const maps: Uint32Array[] = [];
  for (let t = 0; t < 8; t++) {
    const map = new Uint32Array(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        let sx = x, sy = y;
        if (t & 1) sx = size - 1 - sx;
        if (t & 2) sy = size - 1 - sy;
        if (t & 4) [sx, sy] = [sy, sx];
        map[y * size + x] = sy * size + sx;
      }
    }
    maps.push(map);
  }
  return maps;
}

/**
 * Writes a randomly transformed copy of `rgb` (size x size x 3, 8-bit) into `out` as
 * 8-bit values again, so normalisation stays the shared code's job.
 */
export function augmentInto(rgb: Uint8Array, out: Uint8Array, maps: Uint32Array[], options: AugmentOptions, rng: Rng): void {
  const map = options.dihedral ? maps[rng.int(8)] : maps[0];
  const contrast = 1 + rng.uniform(-options.brightness, options.brightness);
  const bright = 255 * rng.uniform(-options.brightness, options.brightness) * 0.5;
  const gain = [0, 1, 2].map(() => contrast * (1 + rng.uniform(-options.color, options.color)));
  for (let i = 0; i < map.length; i++) {
    const s = map[i] * 3, d = i * 3;
    for (let c = 0; c < 3; c++) {
      const v = (rgb[s + c] - 128) * gain[c] + 128 + bright;
      out[d + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}
