import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import '../../trainer/training/cpu-backend.ts';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { dihedralVariants, finalProbabilities, parseManifest, pixelTestDifference, pixelTestImage, plainInference, preprocess, selfTestDifference, selfTestInputs, variantCount, type Manifest } from '../../shared/index.ts';
import { loadModel } from '../../trainer/export/model-io.ts';
import { cli, sampleSubset, tempDir } from './cli-helpers.ts';
import { parseCsv } from './csv-parse.ts';

// Small and fast: 32px input, a few epochs, the sample's images. Behaviour, not accuracy.
const quick = ['--input-size', '32', '--epochs', '2', '--quiet', '--cache-dir'];

describe('npm run train', () => {
  let data: string;
  let out: string;
  let manifest: Manifest;
  let firstRun: ReturnType<typeof cli>;

  beforeAll(async () => {
    data = await sampleSubset(18);
    out = await tempDir('cellsense-out-');
    firstRun = cli(['train', '--data', data, '--out', out, '--version', 'v1', '--seed', '3', ...quick, path.join(out, '.cache')]);
    if (firstRun.status !== 0) throw new Error(`train failed: ${firstRun.stderr}`);
    manifest = parseManifest(JSON.parse(await readFile(path.join(out, 'v1', 'manifest.json'), 'utf8')));
  });

  it('writes model.json, manifest.json and report.html with the manifest keys', async () => {
    expect(manifest.classes).toEqual(['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL']);
    expect(manifest.input).toEqual({ height: 32, width: 32, channels: 3 });
    expect(manifest.training.backend).toBe('wasm');
    expect(manifest.training.kernels).toBe('relaxed-simd');
    expect(manifest.quantization.dtype).toBe('uint8');
    expect(Object.keys(manifest.metrics.validation.perClass)).toEqual(manifest.classes);
    expect(manifest.files.map((f) => f.path).sort()).toEqual(['model.json', 'report.html', 'weights.bin']);
    const report = await readFile(path.join(out, 'v1', 'report.html'), 'utf8');
    expect(report).toContain('<svg');
  });

  it('stores quantised weights in model.json and sha256 values that match the files', async () => {
    const model = JSON.parse(await readFile(path.join(out, 'v1', 'model.json'), 'utf8'));
    const weights = model.weightsManifest[0].weights;
    expect(weights.length).toBeGreaterThan(0);
    // Kernels quantised; per-channel vectors (batch norm, biases) kept float32 (see quantize.ts).
    for (const w of weights) expect([w.name, w.quantization?.dtype ?? 'float32']).toEqual([w.name, w.shape.length > 1 ? 'uint8' : 'float32']);
    expect(weights.some((w: { shape: number[] }) => w.shape.length === 1)).toBe(true);
    for (const f of manifest.files) {
      const bytes = await readFile(path.join(out, 'v1', f.path));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect(bytes.length).toBe(f.bytes);
    }
  });

  it('records the self-test the Worker checks: the written model\'s output on the seeded batch', async () => {
    const { seed, count, outputs } = manifest.selfTest!;
    expect(outputs).toHaveLength(count * manifest.classes.length);
    await tf.setBackend('cpu');
    const model = await loadModel(path.join(out, 'v1'));
    const x = tf.tensor4d(selfTestInputs(seed, count, 32, 32, 3), [count, 32, 32, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(selfTestDifference(outputs, await y.data())).toBeLessThanOrEqual(1e-6);
    // Each row is a distribution, and not a saturated one: the check can tell networks apart.
    for (let r = 0; r < count; r++) {
      const row = outputs.slice(r * manifest.classes.length, (r + 1) * manifest.classes.length);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(Math.max(...row)).toBeLessThan(0.999);
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  it('records the pixel test the Worker checks: the final answer to the synthetic photo through the manifest', async () => {
    const { seed, width, height, probabilities } = manifest.pixelTest!;
    expect(Object.keys(probabilities)).toEqual(manifest.classes);
    expect(Object.values(probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(Math.max(...Object.values(probabilities))).toBeLessThan(0.999);
    // Serving's path, written out here: preprocess, the dihedral batch, the mean and the temperature.
    await tf.setBackend('cpu');
    const model = await loadModel(path.join(out, 'v1'));
    const policy = manifest.inference ?? plainInference;
    const input = preprocess(pixelTestImage(seed, width, height), manifest.preprocessing);
    const x = tf.tensor4d(dihedralVariants(input, 32, 3, policy), [variantCount(policy), 32, 32, 3]);
    const y = model.predict(x) as tf.Tensor;
    const answer = finalProbabilities(await y.data(), manifest.classes.length, policy);
    expect(pixelTestDifference(probabilities, Object.fromEntries(manifest.classes.map((c, i) => [c, answer[i]])), manifest.classes)).toBeLessThanOrEqual(1e-6);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('prints a summary even with --quiet, and no per-epoch lines', () => {
    expect(firstRun.stderr).toMatch(/model v1 written to/);
    expect(firstRun.stderr).not.toMatch(/^epoch /m);
  });

  it('gives the same validation metrics for the same seed', async () => {
    const again = cli(['train', '--data', data, '--out', out, '--version', 'v1-again', '--seed', '3', ...quick, path.join(out, '.cache')]);
    expect(again.status).toBe(0);
    const second = parseManifest(JSON.parse(await readFile(path.join(out, 'v1-again', 'manifest.json'), 'utf8')));
    expect(second.metrics.validation).toEqual(manifest.metrics.validation);
  });

  it('refuses to overwrite an existing version', () => {
    const r = cli(['train', '--data', data, '--out', out, '--version', 'v1', ...quick, path.join(out, '.cache')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(path.join(out, 'v1'));
    expect(r.stderr).toMatch(/already exists/);
  });

  it('evaluate --json prints the evaluation with a confusion matrix summing to the image count', () => {
    const r = cli(['evaluate', '--model', path.join(out, 'v1'), '--data', data, '--json', '--cache-dir', path.join(out, '.cache')]);
    expect(r.status).toBe(0);
    const ev = JSON.parse(r.stdout);
    expect(Object.keys(ev)).toEqual(['classes', 'accuracy', 'macroF1', 'perClass', 'confusion', 'ece', 'review', 'outOfDomain']);
    expect(ev.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(72);
    expect(ev.perClass.MONOCYTE).toEqual({ precision: expect.any(Number), recall: expect.any(Number), f1: expect.any(Number), support: 18 });
  });

  it('evaluate scores the review flag, and --predictions writes the rows it counted', async () => {
    const csvFile = path.join(out, 'predictions.csv');
    const r = cli(['evaluate', '--model', path.join(out, 'v1'), '--data', data, '--json', '--predictions', csvFile, '--cache-dir', path.join(out, '.cache')]);
    expect(r.status).toBe(0);
    const { classes, accuracy, ece, review, outOfDomain } = JSON.parse(r.stdout);
    expect(Object.keys(review)).toEqual(['threshold', 'coverage', 'accuracyAbove', 'errorsFlagged']);
    expect(review.threshold).toBe(manifest.inference?.reviewThreshold ?? 0);
    expect(ece).toBeGreaterThanOrEqual(0);
    expect(ece).toBeLessThanOrEqual(1);
    expect(review.coverage).toBeGreaterThanOrEqual(0);
    expect(review.coverage).toBeLessThanOrEqual(1);

    const [header, ...rows] = parseCsv(await readFile(csvFile, 'utf8'));
    expect(header).toEqual(['path', 'label', 'predicted', 'confidence', 'review', ...manifest.classes, 'outOfDomain']);
    expect(classes).toEqual(manifest.classes);
    expect(rows).toHaveLength(72);
    // Every trained version has a domain profile; the share is the CSV column's.
    expect(manifest.domain).toBeDefined();
    expect(outOfDomain).toBe(rows.filter((row) => row[row.length - 1] === 'true').length / rows.length);
    expect(rows.every((row) => ['true', 'false'].includes(row[row.length - 1]))).toBe(true);
    for (const [file, label, predicted, confidence, flagged, ...rest] of rows) {
      const probabilities = rest.slice(0, -1);
      const p = probabilities.map(Number);
      expect(p).toHaveLength(classes.length);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(file.split('/')[0]).toBe(label);
      expect(predicted).toBe(classes[p.indexOf(Math.max(...p))]);
      expect(Number(confidence)).toBe(Math.max(...p));
      expect(flagged).toBe(String(Number(confidence) < review.threshold));
    }
    expect(new Set(rows.map((row) => row[0])).size).toBe(72);

    const kept = rows.filter((row) => row[4] === 'false');
    const wrong = rows.filter((row) => row[1] !== row[2]);
    expect(review.coverage).toBe(kept.length / rows.length);
    expect(review.accuracyAbove).toBe(kept.length ? kept.filter((row) => row[1] === row[2]).length / kept.length : null);
    expect(review.errorsFlagged).toBe(wrong.length ? wrong.filter((row) => row[4] === 'true').length / wrong.length : null);
    expect(accuracy).toBeCloseTo(1 - wrong.length / rows.length, 10);
  });

  it('evaluate prints ECE and the review figures after the table', () => {
    const r = cli(['evaluate', '--model', path.join(out, 'v1'), '--data', data, '--cache-dir', path.join(out, '.cache')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^confusion \(rows/m);
    expect(r.stdout).toMatch(/^ECE \d\.\d{3} \(15 bins, probabilities as served\)$/m);
    expect(r.stdout).toMatch(/(review below \d\.\d{3}|no review threshold \(nothing flagged\)): \d+ of 72 images kept \(\d+\.\d%\)/);
  });

  it.each([
    ['a folder that does not exist', (dir: string) => path.join(dir, 'missing', 'p.csv'), /folder .*missing does not exist/],
    ['a folder instead of a file', (dir: string) => dir, /it is a folder/],
  ])('evaluate --predictions refuses %s, naming the flag and the path', (_, target, message) => {
    const file = target(out);
    const r = cli(['evaluate', '--model', path.join(out, 'v1'), '--data', data, '--predictions', file]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`--predictions ${JSON.stringify(file)} is not valid`);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('evaluate refuses a version whose weights do not match the manifest', async () => {
    const dir = path.join(out, 'v1-again');
    const weights = await readFile(path.join(dir, 'weights.bin'));
    weights[0] ^= 0xff;
    await writeFile(path.join(dir, 'weights.bin'), weights);
    const r = cli(['evaluate', '--model', dir, '--data', data]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/weights\.bin does not match its sha256/);
  });
});

describe('npm run train refuses unusable input', () => {
  it.each([
    ['a missing folder', async () => path.join(await tempDir(), 'missing'), /does not exist/],
    ['an empty folder', async () => tempDir(), /no class folders/],
    ['one class', async () => {
      const root = await tempDir();
      await mkdir(path.join(root, 'ONLY'));
      return root;
    }, /only one class folder \(ONLY\)/],
  ])('%s: non-zero exit naming the path', async (_, makeRoot, message) => {
    const root = await makeRoot();
    const r = cli(['train', '--data', root, '--out', await tempDir(), '--quiet']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(root);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it.each([
    ['--epochs', 'zero', /--epochs "zero" is not valid/],
    ['--quantize', 'int4', /--quantize "int4" is not valid: use one of uint8, uint16, float16, none/],
    ['--backend', 'gpu', /--backend "gpu" is not valid/],
    ['--version', '../evil', /--version "..\/evil" is not valid/],
  ])('a bad %s value is named with the fix', (flag, value, message) => {
    const r = cli(['train', flag, value, '--quiet']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('skips a corrupt JPEG among good ones, names it, and trains', async () => {
    const data = await sampleSubset(8);
    await writeFile(path.join(data, 'MONOCYTE', 'corrupt.jpeg'), Buffer.from('\xff\xd8\xff\xe0 not really a jpeg'));
    const out = await tempDir();
    const r = cli(['train', '--data', data, '--out', out, '--version', 'c', '--input-size', '24', '--epochs', '1', '--quiet', '--allow-quant-drop']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: skipped .*MONOCYTE\/corrupt\.jpeg/);
    const manifest = JSON.parse(await readFile(path.join(out, 'c', 'manifest.json'), 'utf8'));
    expect(manifest.training.imagesSkipped).toBe(1);
    expect(manifest.training.skipped[0].path).toBe('MONOCYTE/corrupt.jpeg');
  });
});
