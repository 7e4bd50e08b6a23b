import { describe, expect, it } from 'vitest';
import {
  defaultPreprocessing, normalizePixels, preparationKey, preparePixels, preprocess, resizeArea, sha256Hex, stainBox, type PixelImage,
} from '../../../shared/index.ts';

function solid(width: number, height: number, rgb: [number, number, number], channels: 3 | 4 = 3): PixelImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    data.set(rgb, i * channels);
    if (channels === 4) data[i * channels + 3] = 255;
  }
  return { data, width, height, channels };
}

describe('resizeArea', () => {
  it.each([
    ['downscale by 4', 8, 8, 2, 2],
    ['non-integer ratio', 10, 7, 3, 3],
    ['upscale', 2, 2, 5, 5],
  ])('keeps a solid colour solid (%s)', (_, w, h, ow, oh) => {
    const out = resizeArea(solid(w, h, [10, 200, 99]), { x: 0, y: 0, width: w, height: h }, ow, oh);
    expect(out.length).toBe(ow * oh * 3);
    for (let i = 0; i < out.length; i += 3) expect([out[i], out[i + 1], out[i + 2]]).toEqual([10, 200, 99]);
  });

  it('averages the covered area exactly', () => {
    // 2x1 image, black and white: one output pixel is their mean.
    const image: PixelImage = { data: new Uint8Array([0, 0, 0, 255, 255, 255]), width: 2, height: 1, channels: 3 };
    expect([...resizeArea(image, { x: 0, y: 0, width: 2, height: 1 }, 1, 1)]).toEqual([128, 128, 128]);
  });

  it('gives, byte for byte, the pixels it always gave for a fractional box past the edge (trained models depend on them)', async () => {
    const data = new Uint8Array(37 * 29 * 3).map((_, i) => (i * 53 + (i >> 5)) % 256);
    const out = resizeArea({ data, width: 37, height: 29, channels: 3 }, { x: 3.3, y: -2, width: 21.7, height: 17 }, 9, 7);
    // Recorded from the implementation every published model was trained with.
    expect(await sha256Hex(out as Uint8Array<ArrayBuffer>)).toBe('240e6e8cf5edff29850638d3b805232d86a9cd32bc75eb9b3a6ec4dbc67ccd2b');
  });

  it('gives the same pixels from RGBA as from RGB', () => {
    const rgb = solid(9, 6, [1, 2, 3]);
    rgb.data[5] = 250;
    const rgba = solid(9, 6, [1, 2, 3], 4);
    rgba.data[6] = 250;
    const box = { x: 0, y: 0, width: 9, height: 6 };
    expect(resizeArea(rgba, box, 4, 4)).toEqual(resizeArea(rgb, box, 4, 4));
  });

  it.each([
    ['wrong length', { data: new Uint8Array(5), width: 2, height: 2, channels: 3 as const }],
    ['zero width', { data: new Uint8Array(0), width: 0, height: 2, channels: 3 as const }],
  ])('rejects a malformed image (%s)', (_, image) => {
    expect(() => resizeArea(image, { x: 0, y: 0, width: 1, height: 1 }, 1, 1)).toThrow(RangeError);
  });
});

describe('stain crop', () => {
  it('centres the window on the purple cell', () => {
    const image = solid(320, 240, [230, 200, 210]);
    for (let y = 150; y < 190; y++) for (let x = 40; x < 80; x++) image.data.set([120, 60, 190], (y * 320 + x) * 3);
    const box = stainBox(image, 0.5);
    expect(box.width).toBe(120);
    expect(box.x + box.width / 2).toBeCloseTo(60, -1);
    expect(box.y + box.height / 2).toBeCloseTo(170, -1);
  });

  it('falls back to the centre and stays inside the frame', () => {
    const box = stainBox(solid(320, 240, [230, 230, 230]), 0.75);
    expect(box).toEqual({ x: 70, y: 30, width: 180, height: 180 });
  });
});

describe('normalisation', () => {
  it('applies (v/255 - mean) / std per channel', () => {
    const params = { ...defaultPreprocessing(1), mean: [0.5, 0, 1] as [number, number, number], std: [0.5, 1, 0.25] as [number, number, number] };
    const out = normalizePixels(new Uint8Array([255, 51, 0]), params);
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(0.2, 6);
    expect(out[2]).toBeCloseTo(-4, 6);
  });

  it('preprocess = normalize(prepare) at the model size', () => {
    const params = defaultPreprocessing(8, 'stain');
    const image = solid(32, 24, [200, 100, 220]);
    expect(preprocess(image, params)).toEqual(normalizePixels(preparePixels(image, params), params));
    expect(preprocess(image, params).length).toBe(8 * 8 * 3);
  });

  it('cache key changes with every preparation parameter, not with mean/std', () => {
    const a = defaultPreprocessing(64);
    expect(preparationKey({ ...a, mean: [0, 0, 0] })).toBe(preparationKey(a));
    expect(preparationKey({ ...a, crop: 'stain' })).not.toBe(preparationKey(a));
    expect(preparationKey({ ...a, width: 32 })).not.toBe(preparationKey(a));
    expect(preparationKey({ ...a, cropFraction: 0.5 })).not.toBe(preparationKey(a));
  });
});
