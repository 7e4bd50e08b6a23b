import { join } from 'node:path';
import sharp from 'sharp';
import type { TestProject } from 'vitest/node';
import { ROOT } from '../../scripts/lib/wrangler-cli.ts';
import type { HeavyFormat } from './context.ts';

/** A sample photo stretched to `width` x `height`, with a little noise so compressors cannot make it trivial. */
async function photo(width: number, height: number, format: HeavyFormat): Promise<string> {
  const raw = await sharp(join(ROOT, 'data/sample/EOSINOPHIL/_0_1169.jpeg')).resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  for (let i = 0; i < raw.data.length; i += 5) raw.data[i] ^= ((i * 2654435761) >>> 28) & 7;
  const image = sharp(raw.data, { raw: raw.info });
  const encoded = format === 'jpeg' ? image.jpeg({ quality: 92 }) : format === 'png' ? image.png() : image.webp({ lossless: true });
  return (await encoded.toBuffer()).toString('base64');
}

/** Node side of the stress suite's heavy inputs: encodes them with sharp once per run. */
export default async function setup(project: TestProject) {
  const images = {} as Record<HeavyFormat, { share: string; max: string }>;
  for (const format of ['jpeg', 'png', 'webp'] as const) images[format] = { share: await photo(512, 512, format), max: await photo(1024, 1024, format) };
  // The attack run's frame: a tiny lossless WebP declaring 4096x4096.
  const declaredHuge = (await sharp({ create: { width: 4096, height: 4096, channels: 3, background: '#d0c0d8' } }).webp({ lossless: true }).toBuffer()).toString('base64');
  project.provide('heavy', { images, declaredHuge });
}
