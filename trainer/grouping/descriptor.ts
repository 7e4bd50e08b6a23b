import { largestRegion, resizeArea, type PixelImage } from '../../shared/index.ts';

/** Rings of the polar picture around the cell, from 0.3 to 3.5 cell radii. */
export const RINGS = 20;
/** Samples round each ring. */
export const ANGLES = 64;
/** Angular harmonics kept per ring (1..HARMONICS; the ring mean is removed). */
export const HARMONICS = 16;
export const SPECTRUM_LENGTH = RINGS * HARMONICS * 2;
export const COLOUR_LENGTH = 29;
export const DESCRIPTOR_LENGTH = SPECTRUM_LENGTH + COLOUR_LENGTH;

/** Width the photo is reduced to before it is described: enough for cell and red-cell layout. */
const WORK_WIDTH = 160;
const INNER = 0.3, OUTER = 3.5;

/**
 * What makes a photo recognisable under the augmentations of cell datasets (rotation by any
 * angle, flips, shifts, zooms, brightness, filled borders), in two parts:
 *
 * - a polar picture of the brightness around the stained cell, radius in units of the cell's
 *   own radius (so zoom and resolution cancel), each ring's mean removed (so the dark-disc
 *   profile every cell shares does not make all photos look alike), kept as its angular
 *   spectrum: a rotation is a phase shift of it and a flip its conjugate, so two photos are
 *   compared at their best rotation and flip without resampling (see distance.ts);
 * - colour statistics of the cell and of the smear around it, as chromaticities and
 *   brightness ratios, so a uniform brightness change leaves them unchanged.
 *
 * Pixels that are near-black (the fill of rotated or shifted copies) are left out of both.
 * Photos without a stained region are anchored at the centre of their visible area.
 */
export function contentDescriptor(image: PixelImage): Float32Array {
  const width = Math.min(WORK_WIDTH, image.width);
  const height = Math.max(1, Math.round((image.height * width) / image.width));
  const rgb = resizeArea(image, { x: 0, y: 0, width: image.width, height: image.height }, width, height);
  const n = width * height;
  const valid = new Uint8Array(n), stain = new Uint8Array(n), bright = new Float32Array(n);
  let brightSum = 0, validCount = 0;
  for (let i = 0; i < n; i++) {
    const r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2], s = r + g + b;
    bright[i] = s;
    if (s < 60) continue;
    valid[i] = 1;
    validCount++;
    brightSum += s;
    // Stain as chromaticity, not as a fixed margin, so a darker copy still finds its cell.
    if ((3 * (b - g)) / s > 0.3) stain[i] = 1;
  }
  const meanBright = validCount ? brightSum / validCount : 1;
  const cell = largestComponent(close(stain, width, height, 2), width);
  const found = cell.size >= 0.002 * validCount;
  const anchor = found ? (fitCircle(cell.mask, valid, width, height) ?? cell) : centreOfVisible(valid, width, height);

  const out = new Float32Array(DESCRIPTOR_LENGTH);
  polarSpectrum(bright, valid, width, height, anchor, meanBright, out);
  colourStats(rgb, valid, cell.size >= 0.002 * validCount ? cell.mask : new Uint8Array(n), stain, anchor.radius / Math.min(width, height), out.subarray(SPECTRUM_LENGTH));
  return out;
}

/**
 * Morphological closing (dilate, then erode) by a square of side 2r+1: the lobes of a
 * segmented nucleus become one region whether the photo was zoomed in or out, instead of
 * the largest lobe standing for the cell in some copies and the whole cell in others.
 */
function close(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const pass = (src: Uint8Array, horizontal: boolean, dilate: boolean) => {
    const out = new Uint8Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let v = dilate ? 0 : 1;
        for (let d = -r; d <= r && v === (dilate ? 0 : 1); d++) {
          const xx = horizontal ? x + d : x, yy = horizontal ? y : y + d;
          // Outside the frame counts as cell for the erosion, so the frame does not eat the cell.
          const s = xx < 0 || yy < 0 || xx >= width || yy >= height ? (dilate ? 0 : 1) : src[yy * width + xx];
          if (dilate ? s : !s) v = dilate ? 1 : 0;
        }
        out[y * width + x] = v;
      }
    }
    return out;
  };
  const dilated = pass(pass(mask, true, true), false, true);
  return pass(pass(dilated, true, false), false, false);
}

interface Anchor {
  x: number;
  y: number;
  radius: number;
}

function largestComponent(mask: Uint8Array, width: number): Anchor & { size: number; mask: Uint8Array } {
  const { size, region } = largestRegion(mask, width);
  let sx = 0, sy = 0;
  for (let i = 0; i < region.length; i++) {
    if (!region[i]) continue;
    sx += i % width;
    sy += Math.floor(i / width);
  }
  const n = Math.max(size, 1);
  return { x: sx / n, y: sy / n, radius: Math.sqrt(n / Math.PI), size, mask: region };
}

/**
 * The circle through the cell's edge where it meets the smear, by algebraic least squares.
 * Only that edge is used, not where the cell is cut by the frame or the fill of a turned copy,
 * so a cell half out of the picture still gets its own centre and size: a centroid and an
 * area would both shrink with the cut and the polar picture would no longer line up.
 */
function fitCircle(cell: Uint8Array, valid: Uint8Array, width: number, height: number): Anchor | null {
  // Sums for the normal equations of x^2 + y^2 + D x + E y + F = 0.
  let n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, sz = 0, sxz = 0, syz = 0;
  for (let i = 0; i < cell.length; i++) {
    if (!cell[i]) continue;
    const x = i % width, y = (i - x) / width;
    let smear = false;
    for (const q of [x > 0 ? i - 1 : -1, x < width - 1 ? i + 1 : -1, y > 0 ? i - width : -1, y < height - 1 ? i + width : -1]) {
      if (q >= 0 && valid[q] && !cell[q]) smear = true;
    }
    if (!smear) continue;
    const z = x * x + y * y;
    n++; sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y; sz += z; sxz += x * z; syz += y * z;
  }
  if (n < 12) return null;
  const solution = solve3([[sxx, sxy, sx], [sxy, syy, sy], [sx, sy, n]], [-sxz, -syz, -sz]);
  if (!solution) return null;
  const [d, e, f] = solution;
  const x = -d / 2, y = -e / 2, r2 = x * x + y * y - f;
  return r2 > 1 ? { x, y, radius: Math.sqrt(r2) } : null;
}

function solve3(a: number[][], b: number[]): number[] | null {
  const det = (m: number[][]) => m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const d = det(a);
  if (Math.abs(d) < 1e-9) return null;
  return [0, 1, 2].map((c) => det(a.map((row, r) => row.map((v, k) => (k === c ? b[r] : v)))) / d);
}

function centreOfVisible(valid: Uint8Array, width: number, height: number): Anchor {
  let sx = 0, sy = 0, count = 0;
  for (let i = 0; i < valid.length; i++) {
    if (!valid[i]) continue;
    sx += i % width;
    sy += Math.floor(i / width);
    count++;
  }
  if (!count) return { x: width / 2, y: height / 2, radius: Math.min(width, height) / 8 };
  return { x: sx / count, y: sy / count, radius: Math.sqrt(count / Math.PI) / 4 };
}

const cosTable = Float64Array.from({ length: ANGLES }, (_, a) => Math.cos((2 * Math.PI * a) / ANGLES));
const sinTable = Float64Array.from({ length: ANGLES }, (_, a) => Math.sin((2 * Math.PI * a) / ANGLES));

function polarSpectrum(bright: Float32Array, valid: Uint8Array, width: number, height: number, anchor: Anchor, meanBright: number, out: Float32Array) {
  const ring = new Float64Array(ANGLES), seen = new Uint8Array(ANGLES);
  const samples = new Float64Array(RINGS * ANGLES);
  let norm = 0;
  for (let r = 0; r < RINGS; r++) {
    const rho = anchor.radius * (INNER + ((OUTER - INNER) * r) / (RINGS - 1));
    let sum = 0, count = 0;
    for (let a = 0; a < ANGLES; a++) {
      const x = anchor.x + rho * cosTable[a], y = anchor.y + rho * sinTable[a];
      const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
      seen[a] = 0;
      if (x0 < 0 || y0 < 0 || x0 + 1 >= width || y0 + 1 >= height) continue;
      const p = y0 * width + x0;
      // A sample touching fill is dropped rather than blended with black.
      if (!valid[p] || !valid[p + 1] || !valid[p + width] || !valid[p + width + 1]) continue;
      const v = ((1 - fy) * ((1 - fx) * bright[p] + fx * bright[p + 1]) + fy * ((1 - fx) * bright[p + width] + fx * bright[p + width + 1])) / meanBright;
      ring[a] = v;
      seen[a] = 1;
      sum += v;
      count++;
    }
    const mean = count ? sum / count : 0;
    for (let a = 0; a < ANGLES; a++) {
      const v = seen[a] ? ring[a] - mean : 0;
      samples[r * ANGLES + a] = v;
      norm += v * v;
    }
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let r = 0; r < RINGS; r++) {
    for (let k = 1; k <= HARMONICS; k++) {
      let re = 0, im = 0;
      for (let a = 0; a < ANGLES; a++) {
        const v = samples[r * ANGLES + a], t = (k * a) % ANGLES;
        re += v * cosTable[t];
        im -= v * sinTable[t];
      }
      const o = (r * HARMONICS + (k - 1)) * 2;
      out[o] = re * scale;
      out[o + 1] = im * scale;
    }
  }
}

const QUANTILES = [0.1, 0.25, 0.5, 0.75, 0.9];

function quantiles(values: number[], into: Float32Array, at: number): number {
  const sorted = Float64Array.from(values).sort();
  for (const q of QUANTILES) into[at++] = sorted.length ? sorted[Math.floor(q * (sorted.length - 1))] : 0;
  return at;
}

function colourStats(rgb: Uint8Array, valid: Uint8Array, cell: Uint8Array, stain: Uint8Array, relativeRadius: number, out: Float32Array) {
  const cellChroma: number[][] = [[], [], []], cellBright: number[] = [];
  const bgRed: number[] = [], bgGreen: number[] = [], bgBright: number[] = [];
  let redCells = 0;
  for (let i = 0; i < valid.length; i++) {
    if (!valid[i]) continue;
    const r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2], s = r + g + b;
    if (cell[i]) {
      cellChroma[0].push(r / s);
      cellChroma[1].push(g / s);
      cellChroma[2].push(b / s);
      cellBright.push(s);
    } else if (!stain[i]) {
      bgRed.push(r / s);
      bgGreen.push(g / s);
      bgBright.push(s);
      if ((3 * (r - g)) / s > 0.25) redCells++;
    }
  }
  const bgMedian = Float64Array.from(bgBright).sort()[Math.floor(bgBright.length / 2)] || 1;
  let at = 0;
  for (const c of cellChroma) {
    const mean = c.reduce((a, v) => a + v, 0) / Math.max(c.length, 1);
    const sd = Math.sqrt(c.reduce((a, v) => a + (v - mean) ** 2, 0) / Math.max(c.length, 1));
    out[at++] = mean;
    out[at++] = sd;
  }
  at = quantiles(cellBright.map((v) => v / bgMedian), out, at);
  at = quantiles(bgRed, out, at);
  at = quantiles(bgGreen, out, at);
  at = quantiles(bgBright.map((v) => v / bgMedian), out, at);
  out[at++] = redCells / Math.max(bgBright.length, 1);
  out[at++] = relativeRadius;
  out[at++] = cellBright.length / Math.max(cellBright.length + bgBright.length, 1);
}
