import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '../../../trainer/training/cpu-backend.ts';
import { augmentInto, dihedralMaps, noAugment } from '../../../trainer/data/augment.ts';
import { groupByPattern } from '../../../trainer/grouping/pattern.ts';
import { quantizeWeights } from '../../../trainer/export/quantize.ts';
import { Rng } from '../../../trainer/data/rng.ts';
import { groupedSplit } from '../../../trainer/data/split.ts';

describe('groupedSplit', () => {
  const labels = Array.from({ length: 120 }, (_, i) => i % 3);
  const groups = labels.map((l, i) => l * 100 + Math.floor(i / 12));

  it('never puts one group on both sides', () => {
    const { train, validation } = groupedSplit(labels, groups, 0.2, 1);
    const trainGroups = new Set(train.map((i) => groups[i]));
    expect(validation.every((i) => !trainGroups.has(groups[i]))).toBe(true);
    expect(train.length + validation.length).toBe(120);
  });

  it('holds out every class, about the asked fraction', () => {
    const { validation } = groupedSplit(labels, groups, 0.2, 1);
    for (const c of [0, 1, 2]) expect(validation.some((i) => labels[i] === c)).toBe(true);
    expect(validation.length / 120).toBeGreaterThan(0.15);
    expect(validation.length / 120).toBeLessThan(0.45);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(groupedSplit(labels, groups, 0.2, 7)).toEqual(groupedSplit(labels, groups, 0.2, 7));
    expect(groupedSplit(labels, groups, 0.2, 7)).not.toEqual(groupedSplit(labels, groups, 0.2, 8));
  });
});

describe('groupByPattern', () => {
  it('groups by the first capture group within a class', () => {
    const g = groupByPattern(['A/_1_5.jpeg', 'A/_1_9.jpeg', 'A/_2_1.jpeg', 'B/_1_3.jpeg'], [0, 0, 0, 1], /^_(\d+)_/);
    expect(g[0]).toBe(g[1]);
    expect(g[2]).not.toBe(g[0]);
    expect(g[3]).not.toBe(g[0]);
  });
});

describe('augmentation', () => {
  it('the 8 dihedral maps are distinct permutations', () => {
    const maps = dihedralMaps(4);
    expect(new Set(maps.map((m) => m.join())).size).toBe(8);
    for (const m of maps) expect([...m].sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
  });

  it('with augmentation off, the image is unchanged', () => {
    const rgb = Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => i * 5);
    const out = new Uint8Array(rgb.length);
    augmentInto(rgb, out, dihedralMaps(4), noAugment, new Rng(1));
    expect(out).toEqual(rgb);
  });
});

describe('quantizeWeights', () => {
  const values = Float32Array.from([-1, -0.5, 0, 0.25, 1, 3]);
  const specs = [{ name: 'w', shape: [2, 3], dtype: 'float32' as const }];

  it.each([
    ['uint8', 6, 4 / 255],
    ['uint16', 12, 4 / 65535],
    ['float16', 12, 1e-3],
  ] as const)('%s: packs to the right size and dequantises within a step', (dtype, bytes, tolerance) => {
    const { specs: out, data } = quantizeWeights(specs, values.buffer, dtype);
    expect(data.byteLength).toBe(bytes);
    const q = out[0].quantization!;
    expect(q.dtype).toBe(dtype);
    const raw = dtype === 'uint8' ? new Uint8Array(data) : new Uint16Array(data);
    const back = dtype === 'float16' ? [...raw].map(halfToFloat) : [...raw].map((v) => v * q.scale! + q.min!);
    back.forEach((v, i) => expect(Math.abs(v - values[i])).toBeLessThanOrEqual(tolerance / 2 + 1e-7));
  });

  it('keeps vectors (biases, batch norm statistics) in float32 and quantises the kernels', () => {
    // A moving variance spanning orders of magnitude: one uint8 scale would round 0.001 to 0.
    const variance = Float32Array.from([0.001, 0.02, 0.5, 2]);
    const both = new Float32Array([...values, ...variance]);
    const mixed = [...specs, { name: 'bn/moving_variance', shape: [4], dtype: 'float32' as const }];
    const { specs: out, data } = quantizeWeights(mixed, both.buffer, 'uint8');
    expect(out.map((s) => s.quantization?.dtype ?? 'float32')).toEqual(['uint8', 'float32']);
    expect(data.byteLength).toBe(6 + 4 * 4);
    const decoded = tf.io.decodeWeights(data, out);
    expect(decoded['bn/moving_variance'].dataSync()).toEqual(variance);
    expect(decoded.w.shape).toEqual([2, 3]);
    tf.dispose(Object.values(decoded));
  });

  it('none leaves weights untouched', () => {
    expect(quantizeWeights(specs, values.buffer, 'none').data).toBe(values.buffer);
  });
});

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
