import decodeJpeg, { init as initJpeg } from '@jsquash/jpeg/decode.js';
import decodePng, { init as initPng } from '@jsquash/png/decode.js';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
import jpegWasm from '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm';
// @ts-expect-error its .d.ts types the instantiated exports; the bundler hands over the compiled Module
import pngWasm from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm';
import webpWasm from '@jsquash/webp/codec/dec/webp_dec.wasm';
import type { PixelImage } from '../shared/index.ts';
import { BadRequestError, PayloadTooLargeError } from './errors.ts';
import { readImageHeader, type ImageFormat } from './image-header.ts';
import { applyOrientation, exifOrientation } from './orientation.ts';

/** Largest side accepted; bigger images are refused before decoding. */
export const MAX_IMAGE_SIDE = 4096;

type Decoded = { data: Uint8ClampedArray; width: number; height: number };

// Each codec gets its statically imported (already compiled) wasm on first use, once per
// isolate: a cold JPEG request then pays for the JPEG codec only.
const codecs: Record<ImageFormat, { init: () => Promise<unknown>; decode: (bytes: ArrayBuffer) => Promise<Decoded> }> = {
  jpeg: { init: () => initJpeg(jpegWasm), decode: (bytes) => decodeJpeg(bytes) },
  png: { init: () => initPng(pngWasm), decode: (bytes) => decodePng(bytes) },
  webp: { init: () => initWebp(webpWasm), decode: (bytes) => decodeWebp(bytes) },
};
const initialised = new Map<ImageFormat, Promise<unknown>>();

function codec(format: ImageFormat) {
  const { init, decode } = codecs[format];
  if (!initialised.has(format)) initialised.set(format, init());
  return initialised.get(format)!.then(() => decode);
}

/**
 * Decodes JPEG, PNG or WebP bytes to RGBA pixels. The header is checked first: unknown
 * formats and truncated JPEGs are 400, more than MAX_IMAGE_SIDE pixels on a side is 413.
 *
 * @example
 * const image = await decodeImage(new Uint8Array(await request.arrayBuffer()));
 */
export async function decodeImage(bytes: Uint8Array): Promise<PixelImage & { format: ImageFormat }> {
  const header = readImageHeader(bytes);
  if (header.width > MAX_IMAGE_SIDE || header.height > MAX_IMAGE_SIDE) {
    throw new PayloadTooLargeError(
      'image_too_large',
      `image is ${header.width}x${header.height} pixels; at most ${MAX_IMAGE_SIDE} on a side is accepted`,
    );
  }
  const decode = await codec(header.format);
  const copy = bytes.slice().buffer;
  let decoded;
  try {
    decoded = await decode(copy);
  } catch (error) {
    throw new BadRequestError('invalid_image', `could not decode the ${header.format} image: ${(error as Error).message ?? error}`);
  }
  if (decoded.width !== header.width || decoded.height !== header.height || decoded.data.length !== decoded.width * decoded.height * 4) {
    throw new BadRequestError('invalid_image', `the ${header.format} image decoded to an unexpected size`);
  }
  const image = { format: header.format, data: decoded.data, width: decoded.width, height: decoded.height, channels: 4 as const };
  // MozJPEG returns stored pixels; the trainer's sharp `.rotate()` applies EXIF orientation.
  return header.format === 'jpeg' ? applyOrientation(image, exifOrientation(bytes)) : image;
}
