import { assertPixelImage, type Box, type PixelImage } from './image/image.ts';

/** Blue minus green above this marks a stained pixel (unstained red cells and background sit well below). */
export const STAIN_MARGIN = 48;

/**
 * Grid cells across the shorter side the cell is measured on: fine enough that a cell filling
 * a tenth of a frame still spans several cells, coarse enough to cost about a millisecond.
 */
const GRID = 96;

/** Where the stained cell is and how far it spreads, in source pixels. */
export interface CellExtent {
  x: number;
  y: number;
  /** Root-mean-square distance of the cell's stained pixels from its centre. */
  radius: number;
}

/**
 * The white cell of a smear photo: the largest patch of strongly stained pixels (nucleus and
 * granules, whose blue exceeds green by {@link STAIN_MARGIN}), with the lobes of a segmented
 * nucleus joined by closing one grid cell's gap. Its spread is measured on the stained pixels,
 * so it follows the cell and not the frame: the same cell in a tight crop, a wide photo or at
 * twice the resolution gets the same extent relative to itself. `null` when nothing is stained.
 *
 * @example
 * const cell = cellExtent(image); // { x: 161.5, y: 118.2, radius: 24.9 } or null
 */
export function cellExtent(image: PixelImage): CellExtent | null {
  assertPixelImage(image);
  const { data, width, height, channels } = image;
  const step = Math.max(1, Math.min(width, height) / GRID);
  const columns = Math.max(1, Math.floor(width / step)), rows = Math.max(1, Math.floor(height / step));
  const stained = new Uint8Array(columns * rows);
  for (let gy = 0; gy < rows; gy++) {
    const y = Math.floor((gy + 0.5) * step);
    for (let gx = 0; gx < columns; gx++) {
      const p = (y * width + Math.floor((gx + 0.5) * step)) * channels;
      if (data[p + 2] - data[p + 1] > STAIN_MARGIN) stained[gy * columns + gx] = 1;
    }
  }
  const joined = dilate(stained, columns, rows);
  const { size, region } = largestRegion(joined, columns);
  if (!size) return null;
  let n = 0, sx = 0, sy = 0;
  for (let i = 0; i < stained.length; i++) {
    if (!stained[i] || !region[i]) continue;
    n++;
    sx += i % columns;
    sy += Math.floor(i / columns);
  }
  const cx = sx / n, cy = sy / n;
  let spread = 0;
  for (let i = 0; i < stained.length; i++) {
    if (stained[i] && region[i]) spread += (i % columns - cx) ** 2 + (Math.floor(i / columns) - cy) ** 2;
  }
  // A grid cell's own area adds 1/6 of a cell squared: a cell of one stained sample is not a point.
  const radius = Math.sqrt(spread / n + 1 / 6) * step;
  return { x: (cx + 0.5) * step, y: (cy + 0.5) * step, radius };
}

/**
 * The largest 4-connected region of a row-major mask `columns` wide: its size in cells and a
 * mask of it.
 *
 * @example
 * const { size, region } = largestRegion(stainMask, width);
 */
export function largestRegion(mask: Uint8Array, columns: number): { size: number; region: Uint8Array } {
  const label = new Int32Array(mask.length).fill(-1);
  const stack: number[] = [];
  let best = -1, bestSize = 0, id = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start] >= 0) continue;
    let size = 0;
    label[start] = id;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      size++;
      const x = p % columns;
      for (const q of [x > 0 ? p - 1 : -1, x < columns - 1 ? p + 1 : -1, p - columns, p + columns]) {
        if (q >= 0 && q < mask.length && mask[q] && label[q] < 0) {
          label[q] = id;
          stack.push(q);
        }
      }
    }
    if (size > bestSize) [best, bestSize] = [id, size];
    id++;
  }
  const region = new Uint8Array(mask.length);
  if (best >= 0) for (let i = 0; i < mask.length; i++) if (label[i] === best) region[i] = 1;
  return { size: bestSize, region };
}

/** The mask grown by one cell in each of the 8 directions. */
function dilate(mask: Uint8Array, columns: number, rows: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      if (!mask[y * columns + x]) continue;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= rows) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < columns) out[yy * columns + xx] = 1;
        }
      }
    }
  }
  return out;
}

/**
 * The square window `cellScale` times the cell's radius across, centred on the cell, so the
 * cell fills the model input alike however the photo is framed. The window may reach past the
 * frame; the resize repeats the edge pixels there. When nothing is stained: the centred square
 * of `fallbackFraction` of the shorter side.
 *
 * @example
 * const box = cellBox(image, 7); // { x, y, width, height } in source pixels
 */
export function cellBox(image: PixelImage, cellScale: number, fallbackFraction = 0.75): Box {
  const cell = cellExtent(image);
  if (!cell) {
    const side = Math.max(1, Math.round(Math.min(image.width, image.height) * fallbackFraction));
    return { x: Math.round((image.width - side) / 2), y: Math.round((image.height - side) / 2), width: side, height: side };
  }
  const side = Math.max(1, cell.radius * cellScale);
  return { x: cell.x - side / 2, y: cell.y - side / 2, width: side, height: side };
}
