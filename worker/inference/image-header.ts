import { HttpError } from '../errors.ts';

export type ImageFormat = 'jpeg' | 'png' | 'webp';

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/** Which format the bytes are, from their signature; `null` when none we decode. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  return null;
}

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT/JPG/DAC. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Walks the JPEG marker segments to the frame header, then checks that an end-of-image
 * marker follows the first scan. A decoder pads a truncated file with grey and only warns,
 * so truncation has to be caught here.
 */
function jpegHeader(bytes: Uint8Array): ImageHeader {
  let size: { width: number; height: number } | null = null;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) throw new HttpError('invalid_image', `JPEG marker expected at byte ${pos}`);
    const marker = bytes[pos + 1];
    if (marker === 0xff) { pos++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { pos += 2; continue; }
    const length = (bytes[pos + 2] << 8) | bytes[pos + 3];
    if (length < 2) throw new HttpError('invalid_image', `JPEG segment at byte ${pos} has length ${length}`);
    if (isStartOfFrame(marker)) {
      if (pos + 9 > bytes.length) break;
      size = { height: (bytes[pos + 5] << 8) | bytes[pos + 6], width: (bytes[pos + 7] << 8) | bytes[pos + 8] };
    }
    if (marker === 0xda) {
      if (!size) throw new HttpError('invalid_image', 'JPEG scan starts before any frame header');
      // Inside entropy-coded data 0xFF is always followed by 0x00 or a restart marker,
      // so 0xFF 0xD9 can only be the end-of-image marker.
      for (let i = pos + 2 + length; i + 1 < bytes.length; i++) {
        if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return { format: 'jpeg', ...size };
      }
      throw new HttpError('invalid_image', 'JPEG data is truncated (no end-of-image marker)');
    }
    pos += 2 + length;
  }
  throw new HttpError('invalid_image', 'JPEG data is truncated before its first scan');
}

function pngHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < 24 || ascii(bytes, 12, 4) !== 'IHDR') {
    throw new HttpError('invalid_image', 'PNG data has no IHDR header');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { format: 'png', width: view.getUint32(16), height: view.getUint32(20) };
}

function webpHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < 30) throw new HttpError('invalid_image', 'WebP data is truncated');
  const chunk = ascii(bytes, 12, 4);
  const le24 = (i: number) => bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16);
  if (chunk === 'VP8X') return { format: 'webp', width: le24(24) + 1, height: le24(27) + 1 };
  if (chunk === 'VP8L') {
    const bits = bytes[21] | (bytes[22] << 8) | (bytes[23] << 16) | (bytes[24] << 24);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ') {
    return { format: 'webp', width: (bytes[26] | (bytes[27] << 8)) & 0x3fff, height: (bytes[28] | (bytes[29] << 8)) & 0x3fff };
  }
  throw new HttpError('invalid_image', `WebP data has an unknown first chunk "${chunk}"`);
}

/**
 * Format and pixel size read from the file header alone, so oversized or broken images are
 * refused before any decoder allocates memory for them.
 *
 * @example
 * readImageHeader(bytes); // { format: 'jpeg', width: 320, height: 240 }
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  const format = sniffFormat(bytes);
  if (!format) throw new HttpError('invalid_image', 'the body is not a JPEG, PNG or WebP image');
  const header = format === 'jpeg' ? jpegHeader(bytes) : format === 'png' ? pngHeader(bytes) : webpHeader(bytes);
  if (header.width < 1 || header.height < 1) {
    throw new HttpError('invalid_image', `the ${format} header gives an empty size ${header.width}x${header.height}`);
  }
  return header;
}
