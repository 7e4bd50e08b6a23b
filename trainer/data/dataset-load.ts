import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import {
  createJpegDecoder,
  decodeJpegFor,
  DOMAIN_STATISTICS,
  domainStatistics,
  preparationKey,
  preparePixels,
  type JpegDecoder,
  type PixelImage,
  type PreprocessingParams,
} from '../../shared/index.ts';
import { contentDescriptor, DESCRIPTOR_LENGTH } from '../grouping/descriptor.ts';
import { PixelCache } from './pixel-cache.ts';
import type { ScannedDataset } from './dataset-scan.ts';

export interface LoadedImage {
  path: string;
  label: number;
  /** sha256 of the file's bytes. */
  contentHash: string;
  /** Model-size RGB from the shared `preparePixels`. */
  pixels: Uint8Array;
  /** What content grouping compares, see grouping/descriptor.ts. */
  descriptor: Float32Array;
  /** The shared domain statistics of the photo as the model's decode sees it. */
  domain: number[];
}

interface SkippedFile {
  path: string;
  reason: string;
}

export interface LoadedDataset {
  root: string;
  classes: string[];
  images: LoadedImage[];
  skipped: SkippedFile[];
  /** sha256 over every loaded file's path and content hash: names the exact data a model saw. */
  fingerprint: string;
}

interface LoadOptions {
  cacheDir: string;
  concurrency?: number;
  onProgress?: (done: number, total: number, fromCache: number) => void;
}

/**
 * Decodes a file the way every photo enters the project: EXIF orientation applied,
 * alpha dropped, sRGB, 8-bit interleaved RGB.
 */
export async function decodeImageFile(bytes: Uint8Array): Promise<PixelImage> {
  const { data, info } = await sharp(bytes, { failOn: 'error' })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

let jpegDecoder: JpegDecoder | undefined;

function isJpeg(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * A photo as `params` has the model see it. JPEG goes through the shared libjpeg-turbo
 * decoder the Worker runs (its full-scale pixels are sharp's, and `jpegScale: 'reduced'`
 * is honoured); every other format through sharp.
 *
 * @example
 * const rgb = preparePixels(await decodeForModel(bytes, params), params);
 */
export async function decodeForModel(bytes: Uint8Array, params: PreprocessingParams): Promise<PixelImage> {
  if (!isJpeg(bytes)) return decodeImageFile(bytes);
  jpegDecoder ??= createJpegDecoder(new WebAssembly.Module(readFileSync(new URL('../../shared/jpeg/jpeg-decoder.wasm', import.meta.url))));
  try {
    return decodeJpegFor(jpegDecoder, bytes, params);
  } catch (err) {
    throw new Error(`not a decodable JPEG: ${(err as Error).message}`);
  }
}

/**
 * Loads every scanned file: prepared pixels and descriptor from the cache when present,
 * else decoded (decodeForModel; the grouping descriptor from sharp's full decode) and cached. An unreadable or corrupt file is skipped and named.
 */
export async function loadDataset(scan: ScannedDataset, params: PreprocessingParams, options: LoadOptions): Promise<LoadedDataset> {
  const cache = new PixelCache(options.cacheDir, `${preparationKey(params)}|desc-v3|domain-v3`);
  const pixelBytes = params.width * params.height * 3;
  const descriptorBytes = DESCRIPTOR_LENGTH * 4;
  const entryBytes = pixelBytes + descriptorBytes + DOMAIN_STATISTICS.length * 4;
  const results: (LoadedImage | SkippedFile)[] = new Array(scan.files.length);
  let next = 0, done = 0, fromCache = 0;

  const loadOne = async (i: number) => {
    const file = scan.files[i];
    try {
      const bytes = await readFile(path.join(scan.root, file.path));
      const contentHash = createHash('sha256').update(bytes).digest('hex');
      let entry = await cache.get(contentHash, entryBytes);
      if (entry) {
        fromCache++;
      } else {
        const image = await decodeImageFile(bytes);
        entry = new Uint8Array(entryBytes);
        const seen = await decodeForModel(bytes, params);
        entry.set(preparePixels(seen, params), 0);
        entry.set(new Uint8Array(contentDescriptor(image).buffer), pixelBytes);
        entry.set(new Uint8Array(Float32Array.from(domainStatistics(seen)).buffer), pixelBytes + descriptorBytes);
        await cache.set(contentHash, entry);
      }
      const descriptor = new Float32Array(entry.slice(pixelBytes, pixelBytes + descriptorBytes).buffer);
      const domain = [...new Float32Array(entry.slice(pixelBytes + descriptorBytes).buffer)];
      results[i] = { path: file.path, label: file.label, contentHash, pixels: entry.subarray(0, pixelBytes), descriptor, domain };
    } catch (err) {
      results[i] = { path: file.path, reason: (err as Error).message.split('\n')[0] };
    }
    options.onProgress?.(++done, scan.files.length, fromCache);
  };

  const workers = Array.from({ length: options.concurrency ?? 4 }, async () => {
    while (next < scan.files.length) await loadOne(next++);
  });
  await Promise.all(workers);

  const images = results.filter((r): r is LoadedImage => 'pixels' in r);
  const skipped = results.filter((r): r is SkippedFile => !('pixels' in r));
  const fingerprint = createHash('sha256');
  for (const im of images) fingerprint.update(`${im.path}\0${im.contentHash}\n`);
  return { root: scan.root, classes: scan.classes, images, skipped, fingerprint: fingerprint.digest('hex').slice(0, 16) };
}
