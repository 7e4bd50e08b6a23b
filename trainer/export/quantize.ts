import type { io } from '@tensorflow/tfjs-core';
import type { QuantizationDtype } from '../../shared/index.ts';

type WeightsManifestEntry = io.WeightsManifestEntry;

/** IEEE half from float, round-to-nearest-even, as tfjs' float16 dequantiser expects. */
function toHalf(value: number): number {
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00 | (((x >>> 23) & 0xff) === 0xff && mant ? 0x200 : 0);
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return half;
}

/**
 * Quantises float32 weights for storage: `uint8`/`uint16` are affine per tensor
 * (`value = q * scale + min`, the form tfjs dequantises on load), `float16` halves.
 * Vectors (biases, batch norm's scale, shift, mean and variance: one value per channel) stay
 * float32. They are 1% of a CNN's values, and one affine scale over a moving variance that spans
 * orders of magnitude rounds its small channels to nothing, which wrecks those channels.
 * Returns the new weight specs and the packed bytes; `none` returns them unchanged.
 */
export function quantizeWeights(
  specs: WeightsManifestEntry[],
  data: ArrayBuffer,
  dtype: QuantizationDtype,
): { specs: WeightsManifestEntry[]; data: ArrayBuffer } {
  if (dtype === 'none') return { specs, data };
  const outSpecs: WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype !== 'float32') throw new Error(`cannot quantise ${spec.name}: dtype ${spec.dtype}`);
    const values = new Float32Array(data, offset, size);
    offset += size * 4;
    if (spec.shape.length <= 1) {
      parts.push(new Uint8Array(values.slice().buffer));
      outSpecs.push(spec);
      continue;
    }
    if (dtype === 'float16') {
      const q = new Uint16Array(size);
      for (let i = 0; i < size; i++) q[i] = toHalf(values[i]);
      parts.push(new Uint8Array(q.buffer));
      outSpecs.push({ ...spec, quantization: { dtype: 'float16' } });
      continue;
    }
    const levels = dtype === 'uint8' ? 255 : 65535;
    let min = Infinity, max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (size === 0) min = max = 0;
    const scale = max > min ? (max - min) / levels : 1;
    const q = dtype === 'uint8' ? new Uint8Array(size) : new Uint16Array(size);
    for (let i = 0; i < size; i++) q[i] = Math.round((values[i] - min) / scale);
    parts.push(new Uint8Array(q.buffer));
    outSpecs.push({ ...spec, quantization: { dtype, min, scale } });
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const packed = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    packed.set(p, at);
    at += p.length;
  }
  return { specs: outSpecs, data: packed.buffer };
}

/**
 * Whether quantising cost too much validation accuracy to keep the version: more than 1 point,
 * and more than one validation image (on a small split one image is several points, and one
 * image either way is noise, not a cost of the weights).
 *
 * @example
 * quantizationTooCostly(0.583, 0.563, 48); // false: one image of 48
 */
export function quantizationTooCostly(floatAccuracy: number, quantizedAccuracy: number, images: number): boolean {
  const drop = floatAccuracy - quantizedAccuracy;
  return drop > 0.01 + 1e-9 && drop * images > 1 + 1e-9;
}
