import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../shared/index.ts';
import { cli, sample, tempDir } from '../cli-helpers.ts';

// The sample holds 8 source photos per class, found by content grouping: 4 folds keep 2 per fold.
const recipe = ['--data', sample, '--input-size', '24', '--epochs', '1', '--per-class', '16', '--tta', 'dihedral8'];

describe('npm run cv', () => {
  let dir: string;
  let parallel: ReturnType<typeof cli>;

  beforeAll(async () => {
    dir = await tempDir('cellsense-cv-');
    parallel = cli(['cv', ...recipe, '--folds', '4', '--jobs', '2', '--json', '--json-out', path.join(dir, 'cv.json'), '--cache-dir', path.join(dir, 'cache')]);
    if (parallel.status !== 0) throw new Error(`cv failed: ${parallel.stderr}`);
  });

  it('prints one JSON summary: every fold, mean and spread, per class', () => {
    const summary = JSON.parse(parallel.stdout);
    expect(summary.folds).toBe(4);
    expect(summary.rows.map((r: { fold: number }) => r.fold)).toEqual([1, 2, 3, 4]);
    // Whole source photos per fold: 2 of 8 per class, 6 copies each.
    for (const r of summary.rows) expect([r.validationImages, r.groups]).toEqual([48, 8]);
    expect(Object.keys(summary.perClass)).toEqual(['EOSINOPHIL', 'LYMPHOCYTE', 'MONOCYTE', 'NEUTROPHIL']);
    expect(summary.pooled.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(192);
    expect(summary.accuracy.mean).toBeCloseTo(summary.rows.reduce((a: number, r: { accuracy: number }) => a + r.accuracy, 0) / 4, 10);
    // Every source photo has the same number of copies here, so counting each photo once gives
    // the per-image accuracy back.
    for (const r of summary.rows) expect(r.photoAccuracy).toBeCloseTo(r.accuracy, 10);
    expect(summary.photoAccuracy.mean).toBeCloseTo(summary.accuracy.mean, 10);
  });

  it('gives the same folds in one process as in two', () => {
    // Parallel folds train on one thread each; the serial run must too to give the same numbers.
    const serial = cli(['cv', ...recipe, '--folds', '4', '--jobs', '1', '--workers', '1', '--json', '--cache-dir', path.join(dir, 'cache')]);
    expect(serial.status).toBe(0);
    expect(JSON.parse(serial.stdout).rows).toEqual(JSON.parse(parallel.stdout).rows);
  });

  it('refuses more folds than a class has source photos, naming the flag', () => {
    const r = cli(['cv', ...recipe, '--folds', '9', '--cache-dir', path.join(dir, 'cache')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--folds.*9.*only 8 source groups/);
  });

  it('train --cv-results puts the cross-validation into the manifest, with calibration and review policy', async () => {
    const out = path.join(dir, 'models');
    // One epoch at 24 px is a chance-level model: one flipped image would trip the quantisation gate, which is not what this tests.
    const r = cli(['train', ...recipe, '--out', out, '--version', 'cv1', '--quiet', '--allow-quant-drop', '--cv-results', path.join(dir, 'cv.json'), '--cache-dir', path.join(dir, 'cache')]);
    expect(r.status, r.stderr).toBe(0);
    const manifest = parseManifest(JSON.parse(await readFile(path.join(out, 'cv1', 'manifest.json'), 'utf8')));
    expect(manifest.metrics.crossValidation?.folds).toBe(4);
    expect(manifest.inference?.tta).toBe('dihedral8');
    expect(manifest.inference?.temperature).toBeGreaterThan(0);
    expect(r.stdout + r.stderr).toMatch(/calibration \(fitted on the cross-validation's out-of-fold predictions\): temperature/);
    // The temperature and threshold are the ones fitted on every out-of-fold prediction.
    const saved = JSON.parse(await readFile(path.join(dir, 'cv.json'), 'utf8'));
    expect(manifest.metrics.calibration?.source).toBe('out-of-fold');
    expect(manifest.inference?.temperature).toBe(saved.outOfFoldCalibration.temperature);
    expect(manifest.inference?.reviewThreshold).toBe(saved.outOfFoldCalibration.threshold);
    expect(manifest.metrics.calibration?.coverage).toBe(saved.outOfFoldCalibration.coverage);
    // And the served model is checked under that policy on its own validation split.
    const served = manifest.metrics.calibration?.servedValidation;
    expect(served?.images).toBe(manifest.metrics.split.validationImages);
    expect(served?.coverage).toBeGreaterThanOrEqual(0);
    expect(served?.coverage).toBeLessThanOrEqual(1);
    // A chance-level model's threshold is 1 (all flagged): no line then.
    expect(manifest.inference?.reviewThreshold).toBe(1);
    expect(served?.coverage).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/this model under that policy/);
  });

  it('cv keeps every image\'s out-of-fold prediction in --json-out and fits a calibration on them', async () => {
    const saved = JSON.parse(await readFile(path.join(dir, 'cv.json'), 'utf8'));
    expect(saved.outOfFold.labels).toHaveLength(192);
    expect(saved.outOfFold.probabilities).toHaveLength(192 * 4);
    expect(saved.outOfFoldCalibration).toMatchObject({ images: 192, met: expect.any(Boolean) });
    expect(saved.outOfFoldCalibration.temperature).toBeGreaterThan(0);
    // Each fold under the one pooled policy: its share kept, weighted back, is the pooled share.
    const perFold: { fold: number; coverage: number }[] = saved.outOfFoldCalibration.perFold;
    expect(perFold.map((f) => f.fold)).toEqual([1, 2, 3, 4]);
    expect(perFold.reduce((n, f) => n + f.coverage * 48, 0) / 192).toBeCloseTo(saved.outOfFoldCalibration.coverage, 9);
    // Not on the screen: the summary printed with --json leaves the predictions out.
    expect(JSON.parse(parallel.stdout).outOfFold).toBeUndefined();
    expect(JSON.parse(parallel.stdout).outOfFoldCalibration.images).toBe(192);
  });

  it('train --cv-results with a file that is not one names the flag and the fix', async () => {
    const r = cli(['train', ...recipe, '--out', path.join(dir, 'm2'), '--cv-results', path.join(sample, 'README.md'), '--cache-dir', path.join(dir, 'cache')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--cv-results.*npm run cv -- --json-out/);
  });
});
