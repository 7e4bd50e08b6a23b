/**
 * EXIF orientation for JPEG. libjpeg returns pixels as stored; trainer and Worker both turn
 * them upright with this code, as sharp's `.rotate()` does for the formats sharp decodes.
 */

/**
 * Orientation tag (1-8) of a JPEG's EXIF block; 1 when absent or unreadable.
 *
 * @example
 * exifOrientation(bytes); // 6: stored turned 90 degrees
 */
export function exifOrientation(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1];
    if (marker === 0xda || marker === 0xd9) break;
    const length = view.getUint16(pos + 2);
    const start = pos + 4;
    // APP1 holding "Exif\0\0" then a TIFF header.
    if (marker === 0xe1 && start + 14 <= bytes.length && view.getUint32(start) === 0x45786966 && view.getUint16(start + 4) === 0) {
      const tiff = start + 6;
      const little = view.getUint16(tiff) === 0x4949;
      const u16 = (at: number) => (at + 2 <= bytes.length ? view.getUint16(at, little) : 0);
      const u32 = (at: number) => (at + 4 <= bytes.length ? view.getUint32(at, little) : 0);
      const ifd = tiff + u32(tiff + 4);
      const entries = u16(ifd);
      for (let i = 0; i < entries; i++) {
        const entry = ifd + 2 + i * 12;
        if (u16(entry) === 0x0112) {
          const value = u16(entry + 8);
          return value >= 1 && value <= 8 ? value : 1;
        }
      }
      return 1;
    }
    pos = start + length - 2;
  }
  return 1;
}

/**
 * Turns/flips interleaved pixels so that EXIF `orientation` becomes 1 (upright), as
 * sharp's `.rotate()` does. Orientations 5-8 swap width and height.
 *
 * @example
 * const upright = applyOrientation({ data, width, height, channels: 4 }, 6);
 */
export function applyOrientation<T extends { data: Uint8Array | Uint8ClampedArray; width: number; height: number; channels: number }>(
  image: T,
  orientation: number,
): T {
  if (orientation <= 1 || orientation > 8) return image;
  const { data, width: w, height: h, channels: ch } = image;
  const swap = orientation >= 5;
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  const out = new Uint8ClampedArray(data.length);
  // Source pixel for each output pixel (x, y).
  const source: Record<number, (x: number, y: number) => [number, number]> = {
    2: (x, y) => [w - 1 - x, y],
    3: (x, y) => [w - 1 - x, h - 1 - y],
    4: (x, y) => [x, h - 1 - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, h - 1 - x],
    7: (x, y) => [w - 1 - y, h - 1 - x],
    8: (x, y) => [w - 1 - y, x],
  };
  const from = source[orientation];
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const [sx, sy] = from(x, y);
      const s = (sy * w + sx) * ch;
      const o = (y * outW + x) * ch;
      for (let c = 0; c < ch; c++) out[o + c] = data[s + c];
    }
  }
  return { ...image, data: out, width: outW, height: outH };
}
