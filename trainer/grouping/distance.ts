import { ANGLES, COLOUR_LENGTH, HARMONICS, RINGS, SPECTRUM_LENGTH } from './descriptor.ts';

const cos = Float64Array.from({ length: ANGLES * HARMONICS }, (_, i) => Math.cos((2 * Math.PI * ((i % HARMONICS) + 1) * Math.floor(i / HARMONICS)) / ANGLES));
const sin = Float64Array.from({ length: ANGLES * HARMONICS }, (_, i) => Math.sin((2 * Math.PI * ((i % HARMONICS) + 1) * Math.floor(i / HARMONICS)) / ANGLES));

// Scratch for shapeSimilarity, which runs millions of times per class: no allocation per pair.
const gRe = new Float64Array(HARMONICS), gIm = new Float64Array(HARMONICS);
const fRe = new Float64Array(HARMONICS), fIm = new Float64Array(HARMONICS);

/**
 * Similarity of two polar spectra at the best rotation and flip: the largest normalised
 * cross-correlation round the circle. For a rotation by `s` samples the correlation is
 * sum_k Re(conj(A_k) B_k e^(2 pi i k s / N)); a flip conjugates B_k, so both are read off the
 * same per-harmonic sums without resampling either photo. 1 is identical, 0 unrelated.
 */
export function shapeSimilarity(a: Float32Array, b: Float32Array, energyA: number, energyB: number): number {
  if (!energyA || !energyB) return 0;
  gRe.fill(0), gIm.fill(0), fRe.fill(0), fIm.fill(0);
  for (let r = 0; r < RINGS; r++) {
    for (let k = 0; k < HARMONICS; k++) {
      const o = (r * HARMONICS + k) * 2;
      const ar = a[o], ai = a[o + 1], br = b[o], bi = b[o + 1];
      // conj(A) * B, and conj(A) * conj(B) for the flipped photo.
      gRe[k] += ar * br + ai * bi;
      gIm[k] += ar * bi - ai * br;
      fRe[k] += ar * br - ai * bi;
      fIm[k] -= ar * bi + ai * br;
    }
  }
  let best = -Infinity;
  for (let s = 0; s < ANGLES; s++) {
    let plain = 0, flipped = 0;
    const row = s * HARMONICS;
    for (let k = 0; k < HARMONICS; k++) {
      const c = cos[row + k], n = sin[row + k];
      plain += gRe[k] * c - gIm[k] * n;
      flipped += fRe[k] * c - fIm[k] * n;
    }
    best = Math.max(best, plain, flipped);
  }
  return best / Math.sqrt(energyA * energyB);
}

/** Energy of a descriptor's polar spectrum: its similarity with itself before normalising. */
export function spectrumEnergy(d: Float32Array): number {
  let e = 0;
  for (let i = 0; i < SPECTRUM_LENGTH; i++) e += d[i] * d[i];
  return e;
}

interface DistanceMatrixOptions {
  /** Weight of the colour distance (in units of its median over all pairs) against 1 - shape similarity. */
  colourWeight: number;
  onRow?: (done: number, total: number) => void;
}

/**
 * Full n x n distance matrix of one class's descriptors: 1 - shape similarity, plus the
 * Euclidean distance of the colour statistics (each standardised over the class) divided by
 * its median, so the two parts are on a comparable scale whatever the dataset's colours.
 */
export function distanceMatrix(descriptors: Float32Array[], options: DistanceMatrixOptions): Float32Array {
  const n = descriptors.length;
  const matrix = new Float32Array(n * n);
  const colour = standardisedColour(descriptors);
  const energy = descriptors.map(spectrumEnergy);
  const colourDistances = new Float32Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let f = 0; f < COLOUR_LENGTH; f++) {
        const d = colour[i * COLOUR_LENGTH + f] - colour[j * COLOUR_LENGTH + f];
        s += d * d;
      }
      colourDistances[p++] = Math.sqrt(s);
    }
  }
  const median = colourDistances.length ? Float32Array.from(colourDistances).sort()[colourDistances.length >> 1] || 1 : 1;
  p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const d = 1 - shapeSimilarity(descriptors[i], descriptors[j], energy[i], energy[j]) + (options.colourWeight * colourDistances[p++]) / median;
      matrix[i * n + j] = matrix[j * n + i] = d;
    }
    options.onRow?.(i + 1, n);
  }
  return matrix;
}

function standardisedColour(descriptors: Float32Array[]): Float64Array {
  const n = descriptors.length;
  const out = new Float64Array(n * COLOUR_LENGTH);
  for (let f = 0; f < COLOUR_LENGTH; f++) {
    let sum = 0, sq = 0;
    for (const d of descriptors) {
      sum += d[SPECTRUM_LENGTH + f];
      sq += d[SPECTRUM_LENGTH + f] ** 2;
    }
    const mean = sum / Math.max(n, 1);
    const sd = Math.sqrt(Math.max(sq / Math.max(n, 1) - mean * mean, 0));
    // A feature constant over the class says nothing about which photo is which.
    const scale = sd > 1e-9 ? 1 / sd : 0;
    descriptors.forEach((d, i) => (out[i * COLOUR_LENGTH + f] = (d[SPECTRUM_LENGTH + f] - mean) * scale));
  }
  return out;
}
