import { Rng } from './rng.ts';

export interface AugmentOptions {
  /** Random flips and 90-degree turns: a cell has no up or left. */
  dihedral: boolean;
  /** Maximum relative change of brightness and contrast (0.1 = +-10%). */
  brightness: number;
  /** Maximum relative change of each colour channel's gain, for stain variation. */
  color: number;
  /**
   * Maximum relative change of the cell's size (0.15 = x0.87 to x1.15, even in log scale): the
   * cell window is sized from the cell, and that measure varies from photo to photo.
   */
  zoom: number;
  /** Turns by any angle, not just quarter turns. */
  rotate: boolean;
  /**
   * Stain jitter: each stain's amount scaled by up to 1 +- s and shifted by up to +-s (in optical
   * density), after separating the colours into stains (0 turns it off).
   */
  stain: number;
  /**
   * Hue jitter: colours turned about the grey axis by up to +-h degrees, as a stain batch or a
   * camera's white balance turns them (0 turns it off).
   */
  hue?: number;
  /**
   * Random erasing: the chance that a rectangle of 2% to 20% of the image is filled with noise,
   * so no one patch of a cell (or of its background) decides the answer (0 or absent: off).
   */
  erase?: number;
  /**
   * Mixup's Beta(alpha, alpha), applied to the batch once its images are prepared: each image
   * blended with another of the batch, its one-hot label by the same share, so the network is
   * taught to be unsure between photos rather than sure of one (0 or absent: off).
   */
  mixup?: number;
}

export const defaultAugment: AugmentOptions = { dihedral: true, brightness: 0.1, color: 0.05, zoom: 0.15, rotate: true, stain: 0 };
export const noAugment: AugmentOptions = { dihedral: false, brightness: 0, color: 0, zoom: 0, rotate: false, stain: 0 };

/**
 * The augmentation a recipe asks for: none, or the defaults with its zoom and turns.
 *
 * @example
 * augmentFor({ augment: true, zoom: 0, rotate: false }); // flips, quarter turns and colour only
 */
export function augmentFor(recipe: { augment: boolean; zoom: number; rotate: boolean; stainJitter?: number; hueJitter?: number; erase?: number; mixup?: number }): AugmentOptions {
  if (!recipe.augment) return noAugment;
  const options: AugmentOptions = { ...defaultAugment, zoom: recipe.zoom, rotate: recipe.rotate, stain: recipe.stainJitter ?? 0 };
  // Absent rather than 0, so the run key of recipes without them stays what it was.
  return { ...options, ...(recipe.hueJitter ? { hue: recipe.hueJitter } : {}), ...(recipe.erase ? { erase: recipe.erase } : {}), ...(recipe.mixup ? { mixup: recipe.mixup } : {}) };
}

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
  const warped = options.zoom > 0 || options.rotate ? warp(rgb, Math.sqrt(map.length), options, rng) : rgb;
  // Drawn only when on, so recipes without them see the same random sequence as before they existed.
  const source = options.stain > 0 ? jitterStains(warped, options.stain, rng) : warped;
  const turn = options.hue ? hueRotation(rng.uniform(-options.hue, options.hue)) : IDENTITY;
  const m = turn.map((row, c) => row.map((v) => v * gain[c]));
  for (let i = 0; i < map.length; i++) {
    const s = map[i] * 3, d = i * 3;
    const r = source[s] - 128, g = source[s + 1] - 128, b = source[s + 2] - 128;
    for (let c = 0; c < 3; c++) {
      const v = m[c][0] * r + m[c][1] * g + m[c][2] * b + 128 + bright;
      out[d + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  if (options.erase && rng.next() < options.erase) eraseRectangle(out, Math.sqrt(map.length), rng);
}

/** Fills a random rectangle (2% to 20% of the image, aspect 1:3 to 3:1) with uniform noise. */
function eraseRectangle(out: Uint8Array, size: number, rng: Rng): void {
  const area = rng.uniform(0.02, 0.2) * size * size;
  const aspect = Math.exp(rng.uniform(-Math.log(3), Math.log(3)));
  const w = Math.max(1, Math.min(size, Math.round(Math.sqrt(area * aspect))));
  const h = Math.max(1, Math.min(size, Math.round(Math.sqrt(area / aspect))));
  const x0 = rng.int(size - w + 1), y0 = rng.int(size - h + 1);
  for (let y = y0; y < y0 + h; y++) {
    for (let i = (y * size + x0) * 3; i < (y * size + x0 + w) * 3; i++) out[i] = rng.int(256);
  }
}

const IDENTITY = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

/**
 * Rotation by `degrees` about the grey axis (1, 1, 1) of RGB: the hue turns, grey stays grey and
 * the brightness (the channel sum) is kept.
 */
export function hueRotation(degrees: number): number[][] {
  const a = (degrees * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a) / Math.sqrt(3), k = (1 - cos) / 3;
  return [
    [cos + k, k - sin, k + sin],
    [k + sin, cos + k, k - sin],
    [k - sin, k + sin, cos + k],
  ];
}

/**
 * The square image scaled about its centre and turned by a random angle, bilinear, with the
 * edge pixels repeated outside it, as the shared `cell` crop repeats them past the frame.
 */
function warp(rgb: Uint8Array, size: number, options: AugmentOptions, rng: Rng): Float32Array {
  const out = new Float32Array(rgb.length);
  const zoom = Math.exp(rng.uniform(-Math.log1p(options.zoom), Math.log1p(options.zoom)));
  const angle = options.rotate ? rng.uniform(0, 2 * Math.PI) : 0;
  // Source step per output pixel: a zoom above 1 shows the cell larger.
  const cos = Math.cos(angle) / zoom, sin = Math.sin(angle) / zoom;
  const centre = (size - 1) / 2, last = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - centre, dy = y - centre;
      const u = Math.min(Math.max(centre + cos * dx - sin * dy, 0), last);
      const v = Math.min(Math.max(centre + sin * dx + cos * dy, 0), last);
      const x0 = Math.min(Math.floor(u), last - 1), y0 = Math.min(Math.floor(v), last - 1);
      const fx = u - x0, fy = v - y0;
      const p00 = (y0 * size + x0) * 3, p01 = p00 + 3, p10 = p00 + size * 3, p11 = p10 + 3;
      const d = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = rgb[p00 + c] + (rgb[p01 + c] - rgb[p00 + c]) * fx;
        const bottom = rgb[p10 + c] + (rgb[p11 + c] - rgb[p10 + c]) * fx;
        out[d + c] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

/** Optical-density colours of haematoxylin, eosin and a third stain (Ruifrok and Johnston). */
const STAINS = [[0.65, 0.7, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]];
const UNSTAIN = invert3(STAINS);

/**
 * The pixels separated into stain amounts, each scaled and shifted at random, and put back
 * together: how another batch of stain or another staining time changes a smear's colours.
 */
function jitterStains(rgb: ArrayLike<number>, strength: number, rng: Rng): Float32Array {
  const scale = [0, 1, 2].map(() => 1 + rng.uniform(-strength, strength));
  const shift = [0, 1, 2].map(() => rng.uniform(-strength, strength));
  const out = new Float32Array(rgb.length);
  const od = [0, 0, 0], amount = [0, 0, 0];
  for (let p = 0; p < rgb.length; p += 3) {
    for (let c = 0; c < 3; c++) od[c] = -Math.log((rgb[p + c] + 1) / 256);
    for (let s = 0; s < 3; s++) amount[s] = (od[0] * UNSTAIN[0][s] + od[1] * UNSTAIN[1][s] + od[2] * UNSTAIN[2][s]) * scale[s] + shift[s];
    for (let c = 0; c < 3; c++) {
      const density = amount[0] * STAINS[0][c] + amount[1] * STAINS[1][c] + amount[2] * STAINS[2][c];
      out[p + c] = Math.min(255, Math.max(0, 256 * Math.exp(-density) - 1));
    }
  }
  return out;
}

function invert3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}
