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

let initialised: Promise<unknown> | undefined;

/** Hands each codec its statically imported (already compiled) wasm, once per isolate. */
function initDecoders(): Promise<unknown> {
  initialised ??= Promise.all([initJpeg(jpegWasm), initPng(pngWasm), initWebp(webpWasm)]);
  return initialised;
}

const decoders: Record<ImageFormat, (bytes: ArrayBuffer) => Promise<{ data: Uint8ClampedArray; width: number; height: number }>> = {
  jpeg: (bytes) => decodeJpeg(bytes),
  png: (bytes) => decodePng(bytes),
  webp: (bytes) => decodeWebp(bytes),
};

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
  await initDecoders();
  const copy = bytes.slice().buffer;
  let decoded;
  try {
    decoded = await decoders[header.format](copy);
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
