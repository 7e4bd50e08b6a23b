/**
 * Decoded pixels as every decoder in the project hands them over: interleaved 8-bit
 * channels, row-major, no padding. RGBA is accepted as-is (alpha ignored) so that
 * decoders returning RGBA need no extra copy.
 */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** An axis-aligned region of an image, in source pixels (fractional edges allowed). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Checks that `image.data` holds exactly width x height x channels bytes.
 *
 * @example
 * assertPixelImage({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 });
 */
export function assertPixelImage(image: PixelImage): void {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4) {
    throw new RangeError(`image must have 3 or 4 channels, got ${channels}`);
  }
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `image data holds ${data.length} bytes, expected ${width * height * channels} for ${width}x${height}x${channels}`,
    );
  }
}

/**
 * One output axis of an area (box-filter) resample: for each output cell o, the source indices
 * it overlaps, `index[offsets[o]]` to `index[offsets[o + 1] - 1]`, and the fraction of the cell
 * each covers. Precomputed once per axis so the 2-D loop is a plain weighted sum; flat typed
 * arrays rather than an array per cell, as this runs in every classify request and those small
 * arrays were a third of the garbage a request left to the Worker's collector.
 */
function areaWeights(start: number, length: number, outLength: number, limit: number) {
  const step = length / outLength;
  // A cell of `step` source pixels overlaps at most ceil(step) + 1 of them; one more for rounding.
  const most = outLength * (Math.ceil(step) + 2);
  const offsets = new Int32Array(outLength + 1);
  const index = new Int32Array(most);
  const weight = new Float64Array(most);
  let n = 0;
  for (let o = 0; o < outLength; o++) {
    offsets[o] = n;
    const lo = start + o * step;
    const hi = lo + step;
    for (let s = Math.floor(lo); s < Math.ceil(hi); s++) {
      const cover = Math.min(hi, s + 1) - Math.max(lo, s);
      if (cover <= 0) continue;
      index[n] = Math.min(Math.max(s, 0), limit - 1);
      weight[n] = cover / step;
      n++;
    }
  }
  offsets[outLength] = n;
  return { offsets, index, weight };
}

/**
 * Resamples `box` of `image` to `outWidth` x `outHeight` RGB by area averaging, which
 * anti-aliases on downscale and is exact arithmetic (no decoder- or platform-specific
 * filter), so the trainer and the Worker produce the same bytes from the same pixels.
 *
 * @example
 * const rgb = resizeArea(image, { x: 0, y: 0, width: image.width, height: image.height }, 64, 64);
 * rgb.length; // 64 * 64 * 3
 */
export function resizeArea(image: PixelImage, box: Box, outWidth: number, outHeight: number): Uint8Array {
  assertPixelImage(image);
  const { data, width, height, channels } = image;
  const xs = areaWeights(box.x, box.width, outWidth, width);
  const ys = areaWeights(box.y, box.height, outHeight, height);
  const { offsets: xo, index: xi, weight: xw } = xs;
  const out = new Uint8Array(outWidth * outHeight * 3);
  const row = new Float64Array(outWidth * 3);
  for (let oy = 0; oy < outHeight; oy++) {
    row.fill(0);
    for (let k = ys.offsets[oy]; k < ys.offsets[oy + 1]; k++) {
      const base = ys.index[k] * width * channels;
      const wy = ys.weight[k];
      for (let ox = 0, j = xo[0]; ox < outWidth; ox++) {
        let r = 0, g = 0, b = 0;
        for (const end = xo[ox + 1]; j < end; j++) {
          const p = base + xi[j] * channels;
          const w = xw[j];
          r += data[p] * w;
          g += data[p + 1] * w;
          b += data[p + 2] * w;
        }
        row[ox * 3] += r * wy;
        row[ox * 3 + 1] += g * wy;
        row[ox * 3 + 2] += b * wy;
      }
    }
    const o = oy * outWidth * 3;
    for (let i = 0; i < row.length; i++) out[o + i] = Math.min(255, Math.round(row[i]));
  }
  return out;
}
