import { resizeArea, type PixelImage } from './image/image.ts';
import { STAIN_MARGIN } from './cell-window.ts';

/** Rows of the frame the scale statistics are measured on, whatever the photo's resolution. */
const FRAME_ROWS = 120;

/**
 * Statistics of how large things look against the frame, apart from the white cell: how sharp
 * the finest detail is and how long the runs of red cells and of the bright background between
 * them are. Red cells have one size in a lab's photos, so a photo taken at another magnification
 * (or a cell magnified about itself) moves these even when its white cell is of a usual size.
 * Measured on the green channel of the frame resampled to a fixed height, so a photo decoded at
 * another scale gives the same figures.
 *
 * @example
 * const [fineEdges, edgeSharpness, redCellRun, backgroundRun] = scaleStatistics(image);
 */
export function scaleStatistics(image: PixelImage): [number, number, number, number] {
  const rows = FRAME_ROWS, columns = Math.max(1, Math.round((image.width * rows) / image.height));
  const rgb = frameRgb(image, columns, rows);
  const n = columns * rows;
  const green = new Uint8Array(n);
  // 0: bright background, 1: red cell, 2: left out (the stained cell or a black fill).
  const kind = new Uint8Array(n);
  // A histogram, not a sorted list: the percentiles below cost nothing per request.
  const histogram = new Uint32Array(256);
  const all = new Uint32Array(256);
  let counted = 0;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const r = rgb[p], g = rgb[p + 1], b = rgb[p + 2];
    green[i] = g;
    all[g]++;
    if (r + g + b < 60 || b - g > STAIN_MARGIN) kind[i] = 2;
    else { histogram[g]++; counted++; }
  }
  // Mean and mean absolute deviation of green from its histogram, not another pass over the frame.
  let mean = 0;
  for (let v = 0; v < 256; v++) mean += v * all[v];
  mean /= n;
  let deviation = 0;
  for (let v = 0; v < 256; v++) deviation += Math.abs(v - mean) * all[v];
  deviation /= n;
  const cut = counted ? (percentile(histogram, Math.floor(counted * 0.05)) + percentile(histogram, Math.floor(counted * 0.95))) / 2 : 0;
  for (let i = 0; i < n; i++) if (kind[i] !== 2) kind[i] = green[i] < cut ? 1 : 0;
  const [near, far] = lagDifferences(green, columns, rows);
  const runs = runLengths(kind, columns, rows);
  return [
    deviation > 0 ? near / deviation : 0,
    far > 0 ? near / far : 0,
    runs.redCell / rows,
    runs.background / rows,
  ];
}

/**
 * The photo resampled to `columns` x `rows` by area averaging. The usual photo, 320x240 decoded at
 * full or half scale, is twice or once that size: a 2x2 block average gives the general
 * resampler's bytes in a third of its time.
 */
function frameRgb(image: PixelImage, columns: number, rows: number): ArrayLike<number> {
  const { data, width, height, channels } = image;
  if (width === columns && height === rows && channels === 3) return data;
  if (width !== 2 * columns || height !== 2 * rows) return resizeArea(image, { x: 0, y: 0, width, height }, columns, rows);
  const out = new Uint8Array(columns * rows * 3);
  const stride = width * channels;
  // (sum + 2) >> 2 is Math.round(sum / 4) for these non-negative sums, without the float work.
  for (let y = 0, o = 0; y < rows; y++) {
    for (let x = 0, p = 2 * y * stride; x < columns; x++, p += 2 * channels, o += 3) {
      const q = p + channels, pd = p + stride, qd = q + stride;
      out[o] = (data[p] + data[q] + data[pd] + data[qd] + 2) >> 2;
      out[o + 1] = (data[p + 1] + data[q + 1] + data[pd + 1] + data[qd + 1] + 2) >> 2;
      out[o + 2] = (data[p + 2] + data[q + 2] + data[pd + 2] + data[qd + 2] + 2) >> 2;
    }
  }
  return out;
}

/** The value of rank `rank` (from 0) in a histogram of byte values. */
function percentile(histogram: Uint32Array, rank: number): number {
  let seen = 0;
  for (let v = 0; v < histogram.length; v++) {
    seen += histogram[v];
    if (seen > rank) return v;
  }
  return histogram.length - 1;
}

/** Mean absolute difference between pixels 1 and 4 apart, across and down, in one pass. */
function lagDifferences(values: Uint8Array, columns: number, rows: number): [number, number] {
  let near = 0, nearCount = 0, far = 0, farCount = 0;
  for (let y = 0; y < rows; y++) {
    const i0 = y * columns;
    for (let x = 0; x < columns; x++) {
      const i = i0 + x, v = values[i];
      if (x + 1 < columns) { near += Math.abs(values[i + 1] - v); nearCount++; }
      if (y + 1 < rows) { near += Math.abs(values[i + columns] - v); nearCount++; }
      if (x + 4 < columns) { far += Math.abs(values[i + 4] - v); farCount++; }
      if (y + 4 < rows) { far += Math.abs(values[i + 4 * columns] - v); farCount++; }
    }
  }
  return [nearCount ? near / nearCount : 0, farCount ? far / farCount : 0];
}

/** Mean length of the runs of red-cell and of background pixels along rows and columns. */
function runLengths(kind: Uint8Array, columns: number, rows: number): { redCell: number; background: number } {
  const total = [0, 0], count = [0, 0];
  const scan = (start: number, stride: number, length: number) => {
    let current = -1, run = 0;
    for (let k = 0; k <= length; k++) {
      const v = k < length ? kind[start + k * stride] : 2;
      if (v === current) { run++; continue; }
      if (current === 0 || current === 1) { total[current] += run; count[current]++; }
      current = v;
      run = 1;
    }
  };
  for (let y = 0; y < rows; y++) scan(y * columns, 1, columns);
  for (let x = 0; x < columns; x++) scan(x, columns, rows);
  return { redCell: count[1] ? total[1] / count[1] : 0, background: count[0] ? total[0] / count[0] : 0 };
}
