import { describe, expect, it } from 'vitest';
import {
  cellBox, cellExtent, defaultPreprocessing, DEFAULT_CELL_SCALE, parseManifest, preparationKey, preparePixels, preprocessingSchema, type PixelImage,
} from '../../shared/index.ts';

const SMEAR: [number, number, number] = [225, 195, 205];
const STAIN: [number, number, number] = [110, 55, 185];

/** A pale smear `width` x `height` with purple discs (centre x, centre y, radius) drawn at `scale`. */
function smear(width: number, height: number, discs: [number, number, number][], scale = 1): PixelImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = discs.some(([cx, cy, r]) => (x + 0.5 - cx * scale) ** 2 + (y + 0.5 - cy * scale) ** 2 <= (r * scale) ** 2);
      data.set(inside ? STAIN : SMEAR, (y * width + x) * 3);
    }
  }
  return { data, width, height, channels: 3 };
}

describe('cellExtent', () => {
  it('finds the centre and spread of a stained disc (a disc of radius R spreads R / sqrt 2)', () => {
    const cell = cellExtent(smear(320, 240, [[100, 140, 30]]))!;
    expect(cell.x).toBeCloseTo(100, 0);
    expect(cell.y).toBeCloseTo(140, 0);
    expect(cell.radius).toBeGreaterThan(30 / Math.SQRT2 * 0.95);
    expect(cell.radius).toBeLessThan(30 / Math.SQRT2 * 1.05);
  });

  it.each([
    ['a 320x240 photo', 320, 240, 1, 160, 120],
    ['a tight square crop', 90, 90, 1, 45, 45],
    ['twice the resolution', 640, 480, 2, 320, 240],
    ['half the resolution', 160, 120, 0.5, 80, 60],
  ])('measures the same cell alike in %s', (_, width, height, scale, x, y) => {
    // A two-lobed nucleus: the lobes count as one cell.
    const image = smear(width, height, [[x / scale - 12, y / scale, 14], [x / scale + 12, y / scale + 4, 12]].map(([a, b, r]) => [a, b, r] as [number, number, number]), scale);
    const cell = cellExtent(image)!;
    const reference = cellExtent(smear(320, 240, [[148, 120, 14], [172, 124, 12]]))!;
    expect(cell.radius / scale).toBeGreaterThan(reference.radius * 0.93);
    expect(cell.radius / scale).toBeLessThan(reference.radius * 1.07);
    expect(cell.x).toBeCloseTo(x + (reference.x - 160) * scale, -0.5);
  });

  it('takes the largest stained cell, not a speck or the mean of two', () => {
    const cell = cellExtent(smear(320, 240, [[80, 120, 28], [260, 60, 6]]))!;
    expect(cell.x).toBeCloseTo(80, 0);
    expect(cell.radius).toBeLessThan(28 / Math.SQRT2 * 1.05);
  });

  it('is null when nothing is stained', () => {
    expect(cellExtent(smear(64, 48, []))).toBeNull();
  });
});

describe('cellBox and the cell crop', () => {
  it('is cellScale radii across, centred on the cell, and may reach past the frame', () => {
    const image = smear(320, 240, [[20, 20, 20]]);
    const cell = cellExtent(image)!;
    const box = cellBox(image, 7);
    expect(box.width).toBeCloseTo(7 * cell.radius, 6);
    expect(box.height).toBe(box.width);
    expect(box.x + box.width / 2).toBeCloseTo(cell.x, 6);
    expect(box.x).toBeLessThan(0);
  });

  it('falls back to the centred square of cropFraction when nothing is stained', () => {
    expect(cellBox(smear(320, 240, []), 7, 0.75)).toEqual({ x: 70, y: 30, width: 180, height: 180 });
  });

  it('gives the model the same input whether the cell is in a wide photo or a tight crop', () => {
    const params = defaultPreprocessing(32, 'cell');
    const wide = preparePixels(smear(320, 240, [[200, 100, 16]]), params);
    const tight = preparePixels(smear(160, 160, [[80, 80, 16]]), params);
    let most = 0, sum = 0;
    for (let i = 0; i < wide.length; i++) {
      const d = Math.abs(wide[i] - tight[i]);
      [most, sum] = [Math.max(most, d), sum + d];
    }
    // The two grids sample the disc's rim differently: a few levels on edge pixels at most.
    expect(most).toBeLessThanOrEqual(4);
    expect(sum / wide.length).toBeLessThan(0.5);
  });
});

describe('preprocessing version 3', () => {
  it('is what a cell crop starts from, keyed by its scale', () => {
    const params = defaultPreprocessing(64, 'cell', 'reduced');
    expect(params).toMatchObject({ version: 3, crop: 'cell', cellScale: DEFAULT_CELL_SCALE, jpegScale: 'reduced' });
    expect(preparationKey(params)).toBe(`v3:64x64:cell:0.75:area:rgb:jpeg-reduced:cell-${DEFAULT_CELL_SCALE}`);
    expect(preprocessingSchema.parse(params)).toEqual(params);
  });

  it.each([
    ['a cell crop in a version 2 manifest', { ...defaultPreprocessing(64, 'stain', 'reduced'), crop: 'cell' }],
    ['version 3 without cellScale', { ...defaultPreprocessing(64, 'cell'), cellScale: undefined }],
    ['a cell scale of 0', { ...defaultPreprocessing(64, 'cell'), cellScale: 0 }],
  ])('refuses %s', (_, params) => {
    expect(preprocessingSchema.safeParse(params).success).toBe(false);
  });

  it('keeps older manifests readable', () => {
    for (const params of [defaultPreprocessing(64, 'stain'), defaultPreprocessing(64, 'stain', 'reduced')]) {
      expect(preprocessingSchema.parse(params)).toEqual(params);
    }
    expect(typeof parseManifest).toBe('function');
  });
});
