import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '../../trainer/training/cpu-backend.ts';
import sharp from 'sharp';
import type { TestProject } from 'vitest/node';
import { domainScore, domainStatistics, needsFeatures, plainInference, preparePixels } from '../../shared/index.ts';
import { featuresServed } from '../../trainer/training/forward.ts';
import { predictAll } from '../../trainer/data/batches.ts';
import { decodeForModel } from '../../trainer/data/dataset-load.ts';
import { loadModel } from '../../trainer/export/model-io.ts';
import { recordPixelTest } from '../../trainer/export/pixel-test.ts';
import { architectures } from '../../trainer/training/architectures.ts';
import { defaultModelDir, readModelFolder } from '../../trainer/export/model-folder.ts';
import { reframe } from '../trainer/training/reframe.ts';
import { magnifyCell, otherScenes } from '../shared/other-scenes.ts';
import { ROOT } from '../../scripts/lib/wrangler-cli.ts';
import type { ModelFixture, SampleFixture } from './fixtures.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** The photo's white cell magnified `zoom` times about itself, in a frame of the same size, as PNG. */
async function magnified(photo: sharp.Sharp, zoom: number): Promise<Buffer> {
  const { data, info } = await photo.clone().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const image = magnifyCell({ data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 }, zoom);
  return sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
}

const toFixture = (dir: string, { manifest, manifestBytes, files }: Awaited<ReturnType<typeof readModelFolder>>): ModelFixture => ({
  dir,
  version: manifest.version,
  manifestBase64: b64(manifestBytes),
  files: Object.fromEntries([...files].map(([path, bytes]) => [path, b64(bytes)])),
});

/**
 * A small model of each architecture other than the default model's, trained by the trainer's
 * CLI on data/sample (two epochs, a few seconds) and kept under .cache/, keyed by the code
 * that shapes it and the flags, so later runs reuse it.
 */
async function otherArchitectures(defaultArch: string): Promise<Record<string, ModelFixture>> {
  const out: Record<string, ModelFixture> = {};
  for (const arch of Object.keys(architectures).filter((a) => a !== defaultArch)) {
    const flags = ['--arch', arch, '--data', join(ROOT, 'data/sample'), '--epochs', '2', '--seed', '1', '--workers', '1', '--tta', 'dihedral8', '--allow-quant-drop', '--quiet'];
    // Keyed by the architectures' code and what the trainer writes beside the weights (the self-test, the pixel test).
    const hash = createHash('sha256');
    for (const file of ['trainer/training/architectures.ts', 'trainer/export/model-io.ts', 'shared/inference/self-test.ts', 'trainer/export/pixel-test.ts', 'shared/inference/pixel-test.ts']) hash.update(await readFile(join(ROOT, file)));
    const key = hash.update(flags.join(' ')).digest('hex').slice(0, 12);
    const parent = join(ROOT, '.cache/fixture-models', key);
    const version = `fixture-${arch}`;
    if (!existsSync(join(parent, version, 'manifest.json'))) {
      const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [join(ROOT, 'trainer/cli.ts'), 'train', ...flags, '--out', parent, '--version', version], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
      if (run.status !== 0) throw new Error(`training the ${arch} fixture model failed: ${run.stderr}`);
    }
    out[arch] = toFixture(join(parent, version), await readModelFolder(join(parent, version)));
  }
  return out;
}

/**
 * Runs in Node before the workerd tests: reads the repository's default model and the
 * bundled samples, and computes the expected probabilities the way `npm run evaluate` does
 * (the trainer's decode, shared preprocess, the model on tfjs cpu). workerd has no file system, so
 * everything reaches the tests through `provide`.
 */
export default async function setup(project: TestProject) {
  const dir = defaultModelDir();
  const version = await readModelFolder(dir);
  const { manifest } = version;
  await tf.setBackend('cpu');
  const model = await loadModel(dir);

  // `npm run evaluate`'s path: the trainer's decode, shared preparation, then predictAll with the
  // manifest's inference policy (test-time averaging, temperature).
  const policy = manifest.inference ?? plainInference;
  const expect = async (bytes: Uint8Array) => {
    const image = await decodeForModel(bytes, manifest.preprocessing);
    return Array.from(await predictAll(model, [{ pixels: preparePixels(image, manifest.preprocessing), label: 0 }], manifest.preprocessing, manifest.classes.length, policy));
  };
  const domainOf = async (bytes: Uint8Array) => {
    if (!manifest.domain) return null;
    const image = await decodeForModel(bytes, manifest.preprocessing);
    const example = { pixels: preparePixels(image, manifest.preprocessing), label: 0 };
    const features = needsFeatures(manifest.domain) ? (await featuresServed(model, [example], manifest.preprocessing, policy)).values : undefined;
    return domainScore(domainStatistics(image), manifest.domain, features);
  };

  const sampleRoot = join(ROOT, 'data/sample');
  const samples: SampleFixture[] = [];
  const classDirs = (await readdir(sampleRoot, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const label of classDirs.sort()) {
    for (const file of (await readdir(join(sampleRoot, label))).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort()) {
      const bytes = new Uint8Array(await readFile(join(sampleRoot, label, file)));
      samples.push({ path: `data/sample/${label}/${file}`, label, base64: b64(bytes), expected: await expect(bytes), domainScore: await domainOf(bytes) });
    }
  }
  // The same photos with an EXIF orientation tag: sharp's `.rotate()` turns them upright.
  const oriented: SampleFixture[] = [];
  for (const [i, orientation] of [[0, 3], [1, 6], [2, 8], [3, 5]]) {
    const sample = samples[(i * 48) % samples.length];
    const bytes = new Uint8Array(await sharp(Buffer.from(sample.base64, 'base64')).withMetadata({ orientation }).jpeg({ quality: 92 }).toBuffer());
    oriented.push({ path: `${sample.path} with EXIF orientation ${orientation}`, label: sample.label, base64: b64(bytes), expected: await expect(bytes), domainScore: await domainOf(bytes) });
  }
  // The default model may predate pixel tests: the trainer's own code records one.
  const pixelTest = await recordPixelTest(model, manifest.preprocessing, manifest.classes, policy, manifest.domain);
  // Two photos per class framed otherwise (tight crops, padding, other resolutions): the cell
  // crop and the JPEG decode scale it picks must match the Node path there too.
  const reframed: SampleFixture[] = [];
  for (let i = 0; i < samples.length; i += Math.ceil(samples.length / 8)) {
    for (const r of await reframe(Buffer.from(samples[i].base64, 'base64'))) {
      reframed.push({ path: `${samples[i].path}, ${r.name}`, label: samples[i].label, base64: b64(r.bytes), expected: await expect(r.bytes), domainScore: await domainOf(r.bytes) });
    }
  }
  model.dispose();

  // Re-encodings of the first sample, at full size.
  const first = Buffer.from(samples[0].base64, 'base64');
  const pixels = sharp(first).rotate().removeAlpha();
  // Lossless re-encodings of it as the model's JPEG decode sees it (at the manifest's
  // jpegScale): decoding them in full must give those exact pixels.
  const seen = await decodeForModel(first, manifest.preprocessing);
  const seenPixels = sharp(seen.data, { raw: { width: seen.width, height: seen.height, channels: seen.channels } });
  const asSeen = { png: b64(await seenPixels.clone().png().toBuffer()), webp: b64(await seenPixels.clone().webp({ lossless: true }).toBuffer()) };
  const png = await pixels.clone().png().toBuffer();
  const webp = await pixels.clone().webp({ lossless: true }).toBuffer();
  const webpLossy = await pixels.clone().webp({ quality: 80 }).toBuffer();
  const webpAlpha = await pixels.clone().ensureAlpha(0.5).webp({ quality: 80 }).toBuffer();
  // The first sample mirrored, losslessly: dihedral test-time averaging must not see the difference.
  const flopped = await pixels.clone().flop().png().toBuffer();
  // Cheap to decode, for tests that classify thousands of times and only look at routing.
  const tiny = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#8060a0' } }).png().toBuffer();
  // Photos unlike any training photo, which the domain check must flag.
  const frame = (background: string) => sharp({ create: { width: 320, height: 240, channels: 3, background } }).png().toBuffer();
  const scene = otherScenes().find((s) => s.kind === 'landscape')!.image;
  const unlike = {
    white: b64(await frame('#ffffff')), black: b64(await frame('#000000')), grey: b64(await frame('#808080')), purple: b64(await frame('#8060a0')),
    grayscale: b64(await pixels.clone().grayscale().toColourspace('srgb').png().toBuffer()),
    magnified: b64(await magnified(pixels, 2)),
    landscape: b64(await sharp(Buffer.from(scene.data), { raw: { width: scene.width, height: scene.height, channels: 3 } }).png().toBuffer()),
  };
  // Over the 4096-pixel side limit yet tiny on the wire.
  const wide = await sharp({ create: { width: 5000, height: 8, channels: 3, background: '#808080' } }).png().toBuffer();
  // At the 1 MP limit of one image (1024x1024), and one row over it.
  const flat = (height: number) => sharp({ create: { width: 1024, height, channels: 3, background: '#d0c0d8' } }).png().toBuffer();
  const pixelLimit = { at: b64(await flat(1024)), over: b64(await flat(1025)) };

  project.provide('model', toFixture(dir, version));
  project.provide('pixelTest', pixelTest);
  project.provide('otherArchitectures', await otherArchitectures(manifest.training.arch));
  project.provide('samples', samples);
  project.provide('oriented', oriented);
  project.provide('reframed', reframed);
  project.provide('images', { asSeen, png: b64(png), webp: b64(webp), webpLossy: b64(webpLossy), webpAlpha: b64(webpAlpha), wide: b64(wide), pixelLimit, flopped: b64(flopped), tiny: b64(tiny), pngOf: samples[0].path, unlike });
}
