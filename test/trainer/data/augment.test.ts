import { describe, expect, it } from 'vitest';
import { augmentFor, augmentInto, defaultAugment, dihedralMaps, hueRotation, noAugment, type AugmentOptions } from '../../../trainer/data/augment.ts';
import { Rng } from '../../../trainer/data/rng.ts';

const size = 32;

/** A purple disc of `radius` pixels on a pale square, as the cell crop shows a cell. */
function disc(radius: number): Uint8Array {
  const rgb = new Uint8Array(size * size * 3);
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) rgb.set((x - c) ** 2 + (y - c) ** 2 <= radius ** 2 ? [110, 55, 185] : [225, 195, 205], (y * size + x) * 3);
  }
  return rgb;
}

const purplePixels = (rgb: Uint8Array) => {
  let n = 0;
  for (let i = 0; i < rgb.length; i += 3) if (rgb[i + 2] - rgb[i + 1] > 60) n++;
  return n;
};

const geometryOnly = (zoom: number, rotate: boolean): AugmentOptions => ({ ...noAugment, zoom, rotate });

describe('augmentInto: zoom and any-angle turns', () => {
  it('leaves the image as it is with no augmentation', () => {
    const rgb = disc(8), out = new Uint8Array(rgb.length);
    augmentInto(rgb, out, dihedralMaps(size), noAugment, new Rng(1));
    expect(out).toEqual(rgb);
  });

  it('draws the cell larger and smaller, never past 1 + zoom either way', () => {
    const rgb = disc(8), out = new Uint8Array(rgb.length), rng = new Rng(3), maps = dihedralMaps(size);
    const base = purplePixels(rgb);
    const ratios: number[] = [];
    for (let i = 0; i < 200; i++) {
      augmentInto(rgb, out, maps, geometryOnly(0.2, false), rng);
      ratios.push(Math.sqrt(purplePixels(out) / base));
    }
    expect(Math.min(...ratios)).toBeLessThan(0.9);
    expect(Math.max(...ratios)).toBeGreaterThan(1.1);
    expect(Math.min(...ratios)).toBeGreaterThan(1 / 1.2 - 0.06);
    expect(Math.max(...ratios)).toBeLessThan(1.2 + 0.06);
  });

  it('turns by any angle, keeping a centred cell whole and repeating the edge past the frame', () => {
    // A bar through the centre: its purple area is kept by any turn (within resampling), its angle is not.
    const rgb = disc(0);
    for (let y = 14; y < 18; y++) for (let x = 4; x < 28; x++) rgb.set([110, 55, 185], (y * size + x) * 3);
    const out = new Uint8Array(rgb.length), rng = new Rng(5), maps = dihedralMaps(size);
    const base = purplePixels(rgb);
    let changed = 0;
    for (let i = 0; i < 50; i++) {
      augmentInto(rgb, out, maps, geometryOnly(0, true), rng);
      expect(Math.abs(purplePixels(out) - base) / base).toBeLessThan(0.2);
      // The corners hold the smear colour, repeated from the edge, never black.
      expect([out[0], out[1], out[2]]).toEqual([225, 195, 205]);
      if (out.some((v, k) => v !== rgb[k])) changed++;
    }
    expect(changed).toBeGreaterThan(45);
  });

  it('is the recipe\'s choice: off, or the defaults with its zoom and turns', () => {
    expect(augmentFor({ augment: false, zoom: 0.3, rotate: true })).toEqual(noAugment);
    expect(augmentFor({ augment: true, zoom: 0, rotate: false })).toEqual({ ...defaultAugment, zoom: 0, rotate: false });
    expect(augmentFor({ augment: true, zoom: 0, rotate: false, hueJitter: 12 })).toEqual({ ...defaultAugment, zoom: 0, rotate: false, hue: 12 });
    expect(augmentFor({ augment: false, zoom: 0, rotate: false, hueJitter: 12 })).toEqual(noAugment);
    expect(augmentFor({ augment: true, zoom: 0, rotate: false, erase: 0.5 })).toEqual({ ...defaultAugment, zoom: 0, rotate: false, erase: 0.5 });
    expect(augmentFor({ augment: false, zoom: 0, rotate: false, erase: 0.5 })).toEqual(noAugment);
    expect(augmentFor({ augment: true, zoom: 0, rotate: false, mixup: 0.3 })).toEqual({ ...defaultAugment, zoom: 0, rotate: false, mixup: 0.3 });
    expect(augmentFor({ augment: false, zoom: 0, rotate: false, mixup: 0.3 })).toEqual(noAugment);
  });

  it.each([
    [1, 200, 200],
    [0.5, 60, 140],
    [0, 0, 0],
  ])('random erasing at chance %s fills one noise rectangle of 2%% to 20%% in %s to %s of 200 images', (erase, least, most) => {
    const size = 32;
    const flat = new Uint8Array(size * size * 3).fill(128);
    const out = new Uint8Array(flat.length);
    const maps = dihedralMaps(size);
    const rng = new Rng(5);
    let erased = 0;
    for (let n = 0; n < 200; n++) {
      augmentInto(flat, out, maps, { ...noAugment, erase }, rng);
      const changed: number[] = [];
      for (let i = 0; i < size * size; i++) if (out[i * 3] !== 128 || out[i * 3 + 1] !== 128 || out[i * 3 + 2] !== 128) changed.push(i);
      if (!changed.length) continue;
      erased++;
      const xs = changed.map((i) => i % size), ys = changed.map((i) => Math.floor(i / size));
      const box = (Math.max(...xs) - Math.min(...xs) + 1) * (Math.max(...ys) - Math.min(...ys) + 1);
      // One rectangle: the changed pixels fill their bounding box (bar noise that drew 128 thrice).
      expect(changed.length).toBeGreaterThanOrEqual(box - 1);
      expect(box / (size * size)).toBeGreaterThanOrEqual(0.015);
      expect(box / (size * size)).toBeLessThanOrEqual(0.22);
    }
    expect(erased).toBeGreaterThanOrEqual(least);
    expect(erased).toBeLessThanOrEqual(most);
  });
});

describe('augmentInto: stain jitter', () => {
  const stainOnly = (stain: number): AugmentOptions => ({ ...noAugment, stain });

  it('puts the colours back as they were when the jitter is negligible', () => {
    const rgb = disc(8), out = new Uint8Array(rgb.length);
    augmentInto(rgb, out, dihedralMaps(size), stainOnly(1e-9), new Rng(5));
    for (let i = 0; i < rgb.length; i++) expect(Math.abs(out[i] - rgb[i])).toBeLessThanOrEqual(1);
  });

  it('changes the colours from draw to draw but keeps the stained cell where it is', () => {
    const rgb = disc(8), out = new Uint8Array(rgb.length), rng = new Rng(7), maps = dihedralMaps(size);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      augmentInto(rgb, out, maps, stainOnly(0.1), rng);
      seen.add(out.subarray(0, 3).join());
      const centre = ((size / 2) * size + size / 2) * 3;
      expect(out[centre + 2] - out[centre + 1]).toBeGreaterThan(40);
    }
    expect(seen.size).toBeGreaterThan(10);
  });

});

describe('augmentInto: hue jitter', () => {
  const apply = (m: number[][], rgb: number[]) => m.map((row) => row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2]);

  it.each([0, 10, -25, 120])('turns colours about the grey axis by %i degrees, keeping grey and the channel sum', (degrees) => {
    const m = hueRotation(degrees);
    expect(apply(m, [1, 1, 1]).map((v) => +v.toFixed(12))).toEqual([1, 1, 1]);
    const purple = [-18, -73, 57];
    const turned = apply(m, purple);
    expect(turned.reduce((a, b) => a + b)).toBeCloseTo(purple.reduce((a, b) => a + b), 9);
    // The chroma vector (the colour minus its grey) turns by exactly that angle.
    const chroma = (v: number[]) => { const mean = (v[0] + v[1] + v[2]) / 3; return v.map((x) => x - mean); };
    const a = chroma(purple), b = chroma(turned);
    const dot = a.reduce((s, x, i) => s + x * b[i], 0);
    const cross = Math.hypot(a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]);
    expect((Math.atan2(cross, dot) * 180) / Math.PI).toBeCloseTo(Math.abs(degrees), 6);
  });

  it('turns 120 degrees as a channel cycle (red to green)', () => {
    const [r, g, b] = apply(hueRotation(120), [1, 0, 0]);
    expect(Math.abs(r) + Math.abs(b)).toBeLessThan(1e-12);
    expect(g).toBeCloseTo(1, 12);
  });

  it('draws a new hue each time, within the bound, and leaves grey pixels grey', () => {
    const rgb = disc(8), out = new Uint8Array(rgb.length), rng = new Rng(9), maps = dihedralMaps(size);
    const centre = ((size / 2) * size + size / 2) * 3;
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      augmentInto(rgb, out, maps, { ...noAugment, hue: 15 }, rng);
      const px = [...out.subarray(centre, centre + 3)];
      seen.add(px.join());
      expect(Math.abs(px[0] + px[1] + px[2] - (110 + 55 + 185))).toBeLessThanOrEqual(3);
      // 15 degrees at most: the cell stays purple (blue well over green).
      expect(px[2] - px[1]).toBeGreaterThan(80);
    }
    expect(seen.size).toBeGreaterThan(10);
    const grey = new Uint8Array(rgb.length).fill(140);
    augmentInto(grey, out, maps, { ...noAugment, hue: 15 }, rng);
    expect([...new Set(out)]).toEqual([140]);
  });
});
