import { describe, expect, inject, it } from 'vitest';
import { decodeImage } from '../../../worker/inference/decode.ts';
import { HttpError } from '../../../worker/errors.ts';
import { readImageHeader, sniffFormat } from '../../../worker/inference/image-header.ts';
import { applyOrientation, defaultPreprocessing, exifOrientation } from '../../../shared/index.ts';
import { fromBase64, sampleBytes } from '../helpers.ts';

describe('readImageHeader and decodeImage', () => {
  const images = () => inject('images');
  const full = defaultPreprocessing(64, 'stain', 'full');
  // JPEG comes from the shared libjpeg-turbo decoder as RGB; PNG and WebP from jsquash as RGBA.
  it.each([
    ['JPEG sample', () => sampleBytes(0), 'jpeg', 320, 240, 3],
    ['PNG', () => fromBase64(images().png), 'png', 320, 240, 4],
    ['lossless WebP (VP8L)', () => fromBase64(images().webp), 'webp', 320, 240, 4],
    ['lossy WebP (VP8)', () => fromBase64(images().webpLossy), 'webp', 320, 240, 4],
    ['WebP with alpha (VP8X)', () => fromBase64(images().webpAlpha), 'webp', 320, 240, 4],
    ['5000-pixel-wide PNG', () => fromBase64(images().wide), 'png', 5000, 8, 4],
  ] as const)('reads the size of a %s from its header', async (_, bytes, format, width, height, channels) => {
    expect(sniffFormat(bytes())).toBe(format);
    expect(readImageHeader(bytes())).toEqual({ format, width, height });
    if (width <= 4096) {
      const image = await decodeImage(bytes(), full);
      expect([image.width, image.height, image.channels, image.data.length]).toEqual([width, height, channels, width * height * channels]);
    } else {
      await expect(decodeImage(bytes(), full)).rejects.toMatchObject({ status: 413, code: 'image_too_large' });
    }
  });

  it.each([
    ['a version 1 manifest (before jpegScale)', defaultPreprocessing(64, 'stain'), 320, 240],
    ['jpegScale full', full, 320, 240],
    ['jpegScale reduced, stain crop to 64', defaultPreprocessing(64, 'stain', 'reduced'), 160, 120],
    ['jpegScale reduced, whole photo to 32 (1/8 would leave 30 rows)', defaultPreprocessing(32, 'full', 'reduced'), 80, 60],
    ['jpegScale reduced, input too large to shrink', defaultPreprocessing(200, 'stain', 'reduced'), 320, 240],
  ] as const)('decodes a JPEG for %s', async (_, params, width, height) => {
    const image = await decodeImage(sampleBytes(0), params);
    expect([image.format, image.width, image.height, image.channels]).toEqual(['jpeg', width, height, 3]);
  });

  it('refuses a JPEG libjpeg cannot decode with a 400 naming its reason, then decodes the next', async () => {
    const broken = sampleBytes(0).slice();
    // Zero the start-of-frame's component count: the header parses, the frame does not.
    const sof = broken.findIndex((b, i) => b === 0xff && broken[i + 1] === 0xc0);
    broken[sof + 9] = 0;
    await expect(decodeImage(broken, full)).rejects.toMatchObject({ status: 400, code: 'invalid_image' });
    await expect(decodeImage(broken, full)).rejects.toThrow(/could not decode the jpeg image: .+/);
    expect((await decodeImage(sampleBytes(0), full)).width).toBe(320);
  });

  it.each([
    ['GIF', new TextEncoder().encode('GIF89a\x01\x00\x01\x00')],
    ['a JPEG signature alone', new Uint8Array([0xff, 0xd8, 0xff])],
    ['a PNG signature alone', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
    ['a RIFF that is not WebP', new TextEncoder().encode('RIFF\x00\x00\x00\x00WAVEfmt ')],
  ])('refuses %s with a 400', (_, bytes) => {
    let error: unknown;
    try {
      readImageHeader(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(400);
  });
});

describe('EXIF orientation', () => {
  it('reads no orientation from the samples (they carry none)', () => {
    expect(exifOrientation(sampleBytes(0))).toBe(1);
  });

  // A 3x2 image whose pixel values are their row-major index, turned per EXIF orientation.
  const image = { data: new Uint8Array([0, 1, 2, 3, 4, 5]), width: 3, height: 2, channels: 1 };
  it.each([
    [1, 3, 2, [0, 1, 2, 3, 4, 5]],
    [2, 3, 2, [2, 1, 0, 5, 4, 3]],
    [3, 3, 2, [5, 4, 3, 2, 1, 0]],
    [4, 3, 2, [3, 4, 5, 0, 1, 2]],
    [5, 2, 3, [0, 3, 1, 4, 2, 5]],
    [6, 2, 3, [3, 0, 4, 1, 5, 2]],
    [7, 2, 3, [5, 2, 4, 1, 3, 0]],
    [8, 2, 3, [2, 5, 1, 4, 0, 3]],
  ])('orientation %i gives %ix%i upright pixels', (orientation, width, height, pixels) => {
    const out = applyOrientation(image, orientation);
    expect([out.width, out.height, Array.from(out.data)]).toEqual([width, height, pixels]);
  });

  it('reads the tag of each oriented fixture', () => {
    expect(inject('oriented').map((s) => exifOrientation(fromBase64(s.base64)))).toEqual([3, 6, 8, 5]);
  });
});
