import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  createJpegDecoder, decodeJpegFor, defaultPreprocessing, jpegScaleFor, JpegDecodeError, parseManifest, preparationKey, preprocessingSchema,
} from '../../../shared/index.ts';
import { decodeForModel, decodeImageFile } from '../../../trainer/data/dataset-load.ts';
import { defaultModelDir } from '../../../trainer/export/model-folder.ts';

const root = path.resolve(import.meta.dirname, '../../..');
const decoder = createJpegDecoder(new WebAssembly.Module(readFileSync(path.join(root, 'shared/jpeg/jpeg-decoder.wasm'))));
const sampleDir = path.join(root, 'data/sample');
const samples = readdirSync(sampleDir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.jpe?g$/i.test(f)).sort();
const sample = (i: number) => new Uint8Array(readFileSync(path.join(sampleDir, samples[i])));

describe('createJpegDecoder', () => {
  it('decodes every sample JPEG to exactly the pixels sharp gives (so older models see what they were trained on)', async () => {
    expect(samples.length).toBeGreaterThan(20);
    for (let i = 0; i < samples.length; i += 8) {
      const ours = decoder.decode(sample(i));
      const theirs = await decodeImageFile(sample(i));
      expect([ours.width, ours.height, ours.channels]).toEqual([theirs.width, theirs.height, 3]);
      expect(Buffer.compare(Buffer.from(ours.data), Buffer.from(theirs.data)), samples[i]).toBe(0);
    }
  });

  it.each([[1, 320, 240], [2, 160, 120], [4, 80, 60], [8, 40, 30]] as const)('decodes at 1/%i scale to %ix%i', (scale, width, height) => {
    const image = decoder.decode(sample(0), scale);
    expect([image.width, image.height, image.data.length]).toEqual([width, height, width * height * 3]);
    expect(decoder.header(sample(0))).toEqual({ width: 320, height: 240 });
  });

  it.each([
    ['bytes that are not a JPEG', new Uint8Array([1, 2, 3, 4]), /Not a JPEG file/],
    ['a JPEG with no image', new Uint8Array([0xff, 0xd8, 0xff, 0xd9]), /no image/],
  ])('throws JpegDecodeError with libjpeg\'s reason for %s, and decodes the next photo', (_, bytes, reason) => {
    expect(() => decoder.decode(bytes)).toThrow(JpegDecodeError);
    expect(() => decoder.decode(bytes)).toThrow(reason);
    expect(decoder.decode(sample(0)).width).toBe(320);
  });

  // libjpeg decodes these with corrupt-data warnings, filling what is missing with grey.
  it.each([
    ['cut to 30% with an end-of-image marker appended', (b: Uint8Array) => Uint8Array.from([...b.subarray(0, Math.floor(b.length * 0.3)), 0xff, 0xd9])],
    ['with garbage in its scan', (b: Uint8Array) => { const c = b.slice(); c.fill(0x55, 1000, 1400); return c; }],
  ])('refuses a JPEG %s as damaged, at every scale', (_, damage) => {
    const bytes = damage(sample(0));
    for (const scale of [1, 2, 8] as const) expect(() => decoder.decode(bytes, scale)).toThrow(/damaged or truncated \(libjpeg reported \d+ corrupt-data warning/);
    expect(decoder.decode(sample(0)).width).toBe(320);
  });
});

describe('jpegScaleFor', () => {
  it.each([
    ['full decode asked for', 320, 240, defaultPreprocessing(64, 'stain', 'full'), 1],
    ['stain crop 0.75 of 120 rows is 90 >= 64 (of 60 rows, 45 would be < 64)', 320, 240, defaultPreprocessing(64, 'stain', 'reduced'), 2],
    ['whole photo 40x30 covers 24', 320, 240, defaultPreprocessing(24, 'full', 'reduced'), 8],
    ['whole photo 80x60 < 64 rows', 320, 240, defaultPreprocessing(64, 'full', 'reduced'), 2],
    ['input larger than the crop', 320, 240, defaultPreprocessing(200, 'stain', 'reduced'), 1],
    ['odd sizes round up as libjpeg does (ceil(255/4) = 64)', 255, 255, defaultPreprocessing(64, 'full', 'reduced'), 4],
  ] as const)('%s', (_, width, height, params, scale) => {
    expect(jpegScaleFor(width, height, params)).toBe(scale);
  });
});

describe('decodeJpegFor and the trainer\'s decodeForModel', () => {
  it.each([
    ['a large cell: stays at the stain guess', 80, 160],
    ['a smaller cell: decoded at 1/2, where its window spans the input', 50, 320],
    ['a small cell in a large photo: decoded in full', 12, 640],
  ])('sizes a cell crop\'s decode from the cell: %s', async (_, radius, decodedWidth) => {
    // A 640x480 smear with one purple cell; the stain guess decodes it at 1/4 (0.75 x 120 >= 64).
    const svg = `<svg width="640" height="480"><rect width="640" height="480" fill="rgb(225,195,205)"/><circle cx="300" cy="250" r="${radius}" fill="rgb(110,55,185)"/></svg>`;
    const bytes = new Uint8Array(await sharp(Buffer.from(svg)).jpeg({ quality: 95 }).toBuffer());
    const params = defaultPreprocessing(64, 'cell', 'reduced');
    const image = decodeJpegFor(decoder, bytes, params);
    expect(image.width).toBe(decodedWidth);
  });

  it('turn an EXIF-rotated JPEG upright as sharp does', async () => {
    const rotated = new Uint8Array(await sharp(sample(0)).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const ours = decodeJpegFor(decoder, rotated, defaultPreprocessing(64, 'stain'));
    const theirs = await decodeImageFile(rotated);
    expect([ours.width, ours.height]).toEqual([240, 320]);
    expect(Buffer.compare(Buffer.from(ours.data), Buffer.from(theirs.data))).toBe(0);
  });

  it('gives the trainer the pixels the Worker decodes, at the manifest\'s scale', async () => {
    const params = defaultPreprocessing(64, 'stain', 'reduced');
    const image = await decodeForModel(sample(3), params);
    expect([image.width, image.height]).toEqual([160, 120]);
    expect(image.data).toEqual(decoder.decode(sample(3), 2).data);
  });
});

describe('preprocessing versions', () => {
  it('writes version 1 for a full decode and version 2 with jpegScale for a reduced one', () => {
    expect(defaultPreprocessing(64, 'stain')).toMatchObject({ version: 1 });
    expect(defaultPreprocessing(64, 'stain')).not.toHaveProperty('jpegScale');
    expect(defaultPreprocessing(64, 'stain', 'reduced')).toMatchObject({ version: 2, jpegScale: 'reduced' });
    expect(preparationKey(defaultPreprocessing(64, 'stain', 'reduced'))).toBe('v2:64x64:stain:0.75:area:rgb:jpeg-reduced');
    expect(preparationKey(defaultPreprocessing(64, 'stain'))).toBe('v1:64x64:stain:0.75:area:rgb');
  });

  it.each([
    ['version 1', defaultPreprocessing(64, 'stain'), true],
    ['version 2 reduced', defaultPreprocessing(64, 'stain', 'reduced'), true],
    ['version 2 without jpegScale', { ...defaultPreprocessing(64, 'stain'), version: 2 }, false],
    ['version 3 without its cellScale', { ...defaultPreprocessing(64, 'stain', 'reduced'), version: 3 }, false],
  ])('the manifest schema %s: accepted %s', (_, params, ok) => {
    expect(preprocessingSchema.safeParse(params).success).toBe(ok);
  });

  it('reads the shipped default model (version 3, cell crop, reduced) and the stain-crop manifests of versions 2 and 1', async () => {
    const shipped = JSON.parse(readFileSync(path.join(await defaultModelDir(path.join(root, 'models')), 'manifest.json'), 'utf8'));
    expect(parseManifest(shipped).preprocessing).toMatchObject({ version: 3, crop: 'cell', jpegScale: 'reduced' });
    const { cellScale: _, ...fields } = shipped.preprocessing;
    expect(parseManifest({ ...shipped, preprocessing: { ...fields, version: 2, crop: 'stain' } }).preprocessing.version).toBe(2);
    const { jpegScale: __, ...older } = fields;
    expect(parseManifest({ ...shipped, preprocessing: { ...older, version: 1, crop: 'stain' } }).preprocessing.version).toBe(1);
  });
});
