import decodePng, { init as initPng } from '@jsquash/png/decode.js';
import decodeWebp, { init as initWebp } from '@jsquash/webp/decode.js';
// @ts-expect-error its .d.ts types the instantiated exports; the bundler hands over the compiled Module
import pngWasm from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm';
import webpWasm from '@jsquash/webp/codec/dec/webp_dec.wasm';
import jpegWasm from '../../shared/jpeg/jpeg-decoder.wasm';
import { createJpegDecoder, decodeJpegFor, type PixelImage, type PreprocessingParams } from '../../shared/index.ts';
import { HttpError } from '../errors.ts';
import { readImageHeader, type ImageFormat, type ImageHeader } from './image-header.ts';

/** Largest side accepted; bigger images are refused before decoding. */
export const MAX_IMAGE_SIDE = 4096;
/**
 * Most pixels one image may have (1 MP, e.g. 1024x1024 or 1280x800; a training photo is 320x240).
 * A version's input is 64x64 from a window 3/4 of the photo's shorter side: at 1 MP that window is
 * already 12 times the input across. Decoding a PNG or WebP is one call nothing else in the isolate
 * can interrupt, 50-60 ms per megapixel on an idle core and three times that on a busy one.
 */
export const MAX_IMAGE_PIXELS = 1024 * 1024;

/**
 * Refuses (413) an image whose header declares more than MAX_IMAGE_SIDE on a side or more than
 * MAX_IMAGE_PIXELS in all; returns its pixel count.
 */
export function checkImageSize(header: ImageHeader): number {
  const pixels = header.width * header.height;
  if (header.width > MAX_IMAGE_SIDE || header.height > MAX_IMAGE_SIDE || pixels > MAX_IMAGE_PIXELS) {
    throw new HttpError(
      'image_too_large',
      `image is ${header.width}x${header.height} pixels; at most ${MAX_IMAGE_SIDE} on a side and ${MAX_IMAGE_PIXELS} pixels (1 MP) in all are accepted`,
    );
  }
  return pixels;
}

type Decoded = { data: Uint8ClampedArray; width: number; height: number };
type OtherFormat = Exclude<ImageFormat, 'jpeg'>;

// JPEG goes through the trainer's own decoder (shared/), instantiated on first use; PNG and
// WebP get their statically imported (already compiled) wasm on first use, once per isolate.
const jpegDecoder = createJpegDecoder(jpegWasm);
const codecs: Record<OtherFormat, { init: () => Promise<unknown>; decode: (bytes: ArrayBuffer) => Promise<Decoded> }> = {
  png: { init: () => initPng(pngWasm), decode: (bytes) => decodePng(bytes) },
  webp: { init: () => initWebp(webpWasm), decode: (bytes) => decodeWebp(bytes) },
};
const initialised = new Map<OtherFormat, Promise<unknown>>();

function codec(format: OtherFormat) {
  const { init, decode } = codecs[format];
  if (!initialised.has(format)) initialised.set(format, init());
  return initialised.get(format)!.then(() => decode);
}

function decodeFailed(format: ImageFormat, error: unknown): HttpError {
  return new HttpError('invalid_image', `could not decode the ${format} image: ${(error as Error).message ?? error}`);
}

/**
 * Decodes JPEG, PNG or WebP bytes to pixels as `params` has the model see them (a JPEG
 * upright, and at reduced scale when the manifest says so). The header is checked first:
 * unknown formats and truncated JPEGs are 400, more than MAX_IMAGE_SIDE pixels on a side or
 * MAX_IMAGE_PIXELS in all is 413.
 *
 * @example
 * const image = await decodeImage(new Uint8Array(await request.arrayBuffer()), manifest.preprocessing);
 */
export async function decodeImage(bytes: Uint8Array, params: PreprocessingParams): Promise<PixelImage & { format: ImageFormat }> {
  const header = readImageHeader(bytes);
  checkImageSize(header);
  if (header.format === 'jpeg') {
    try {
      return { format: 'jpeg', ...decodeJpegFor(jpegDecoder, bytes, params) };
    } catch (error) {
      throw decodeFailed('jpeg', error);
    }
  }
  const decode = await codec(header.format);
  const copy = bytes.slice().buffer;
  let decoded;
  try {
    decoded = await decode(copy);
  } catch (error) {
    throw decodeFailed(header.format, error);
  }
  if (decoded.width !== header.width || decoded.height !== header.height || decoded.data.length !== decoded.width * decoded.height * 4) {
    throw new HttpError('invalid_image', `the ${header.format} image decoded to an unexpected size`);
  }
  return { format: header.format, data: decoded.data, width: decoded.width, height: decoded.height, channels: 4 };
}
