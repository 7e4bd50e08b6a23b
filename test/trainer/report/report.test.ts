import { describe, expect, it } from 'vitest';
import { niceTicks } from '../../../trainer/report/charts/chart-scale.ts';
import { bytes, count as thousands, duration, percent, points, score, scoreDelta, timestamp } from '../../../trainer/report/format.ts';
import { ReportDataError, renderReport } from '../../../trainer/report/render-report.ts';
import { buildReportFixture, FIXTURE_CLASSES } from './report-fixture.ts';
import { count, sectionOf } from './report-html.ts';

const SECTIONS = ['summary', 'curves', 'confusion', 'per-class', 'quantization', 'dataset', 'mistakes'];

describe('renderReport on a realistic run', async () => {
  const data = await buildReportFixture();
  const html = renderReport(data);

  it('is one HTML document with every section', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(count(html, '</html>')).toBe(1);
    for (const id of SECTIONS) expect(html, id).toContain(`<section id="${id}"`);
  });

  it('heads with the model identity and how it was trained', () => {
    const head = html.slice(html.indexOf('<header'), html.indexOf('</header>'));
    for (const text of ['blood-cells', '2025-06-03.1', '2025-06-03 14:27 UTC', 'compact', 'wasm', '15 of 20 run, best 12', '42', '10 min 47 s', '70.2 KB (uint8 weights)', '68,740']) {
      expect(head, text).toContain(text);
    }
  });

  it('names every class', () => {
    for (const c of FIXTURE_CLASSES) expect(count(html, c), c).toBeGreaterThanOrEqual(5);
  });

  it('states the headline figures, formatted, and how validation was split', () => {
    const summary = sectionOf(html, 'summary');
    // Quantised: 144 of 160 right; float: 145; macro-F1 (72/81 + 78/81 + 68/77 + 70/81) / 4.
    expect(summary).toContain('90.0%');
    expect(summary).toContain('float model: 90.6% (−0.6 pts)');
    expect(summary).toContain('0.900');
    expect(summary).toContain('160 of 798 images (20.1%)');
    expect(summary).toContain('Grouped by file-name pattern /^_(\\d+)_/ (134 groups): no group has images on both sides.');
    expect(summary).toContain('keep all copies of a source photo on one side. Source photos read from file names (--group-pattern): 134 groups');
  });

  it('draws two line charts with a legend, axes and the best epoch', () => {
    const curves = sectionOf(html, 'curves');
    expect(count(curves, '<svg class="chart"')).toBe(2);
    expect(count(curves, 'best epoch 12')).toBe(2);
    expect(count(curves, '>Train</text>')).toBe(2);
    expect(count(curves, '>Validation</text>')).toBe(2);
    expect(count(curves, '>Epoch</text>')).toBe(2);
    // 15 points per series, 2 series per chart, 2 charts.
    expect(count(curves, /<circle [^>]*r="2.6"/g)).toBe(60 + 4);
    expect(curves).toContain('>100%</text>');
    expect(count(curves, '<tr')).toBe(16);
  });

  it('shows the quantised confusion matrix as a heat map with counts', () => {
    const cm = sectionOf(html, 'confusion');
    expect(count(cm, '<svg class="heatmap"')).toBe(1);
    const counts = [...cm.matchAll(/class="cm-count"[^>]*>(\d+)</g)].map((m) => Number(m[1]));
    expect(counts).toEqual([36, 0, 1, 3, 0, 39, 1, 0, 1, 2, 34, 3, 4, 0, 1, 35]);
    expect(count(cm, 'class="diag"')).toBe(4);
    expect(cm).toContain('NEUTROPHIL</strong> taken for <strong>EOSINOPHIL</strong>: 4 of 40');
    // Darker for a larger share of the row: 39/40 is darker than 0/40.
    expect(cm).toContain('fill="rgb(248,250,252)"');
  });

  it('tabulates per-class figures for float and quantised side by side', () => {
    const table = sectionOf(html, 'per-class');
    // EOSINOPHIL: float P 37/42, R 37/40, F1 74/82; quantised P 36/41, R 36/40, F1 72/81.
    expect(table).toMatch(/EOSINOPHIL<\/td><td>40<\/td><td>0\.881<\/td><td class="q">0\.878<\/td><td>0\.925<\/td><td class="q">0\.900<\/td><td>0\.902<\/td><td class="q">0\.889<\/td>/);
    expect(table).toContain('Macro average');
  });

  it('compares float and quantised, including weight dtype and size', () => {
    const q = sectionOf(html, 'quantization');
    for (const text of ['Quantised (uint8)', '90.6%', '90.0%', '−0.6 pts', '−0.006', 'float32', '≈ 268.5 KB', '67.5 KB', '4.0× smaller']) {
      expect(q, text).toContain(text);
    }
  });

  it('summarises the dataset with per-class counts, split counts and skipped files', () => {
    const ds = sectionOf(html, 'dataset');
    expect(ds).toContain('798 images in 4 classes');
    expect(ds).toMatch(/MONOCYTE<\/td><td class="left"><span class="bar"[^>]*><\/span>198<\/td><td>24\.8%<\/td><td>33<\/td>/);
    expect(ds).toContain('<dt>Training images</dt><dd>638</dd>');
    expect(ds).toContain('<dt>Validation images</dt><dd>160</dd>');
    expect(ds).toContain('Skipped files (2)');
    expect(ds).toContain('NEUTROPHIL/scan 0042.tiff');
    expect(ds).toContain('unsupported file type .tiff');
  });

  it('embeds one data-URI thumbnail per mistake, with labels and probability', () => {
    const mistakes = sectionOf(html, 'mistakes');
    expect(count(html, '<img ')).toBe(data.mistakes.length);
    expect(count(html, 'src="data:image/png;base64,')).toBe(data.mistakes.length);
    expect(mistakes).toContain('98.1%');
    expect(mistakes).toMatch(/<dt>True<\/dt><dd>NEUTROPHIL<\/dd><dt>Predicted<\/dt><dd class="wrong">EOSINOPHIL<\/dd>/);
    const first = /src="data:image\/png;base64,([^"]+)"/.exec(mistakes)![1];
    expect(Buffer.from(first, 'base64').equals(Buffer.from(data.mistakes[0].thumbnailPng))).toBe(true);
  });

  it('makes no external request of any kind', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\/\//i);
    expect(html).not.toMatch(/<script|<link|@import|<iframe/i);
    expect(html).not.toMatch(/url\((?!#)/);
  });
});

describe('renderReport escapes user text', async () => {
  const evil = '<script>alert(1)</script>';
  const data = await buildReportFixture({
    classes: [evil, 'LYMPHO"CYTE\' onmouseover="x', 'MONO&CYTE', '<img src=x onerror=alert(2)>'],
    root: '/data/<b>cells</b>',
  });
  data.dataset.skipped = [{ path: `${evil}/a.jpeg`, reason: '<i>bad</i>' }];
  data.mistakes[0].path = '"><svg onload=alert(3)>.jpeg';
  const html = renderReport(data);

  it('never lets a tag from a class name, path or reason through', () => {
    expect(html).not.toContain(evil);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>cells</b>');
    expect(html).not.toContain('<i>bad</i>');
    expect(html).not.toContain('<svg onload');
    expect(html).not.toContain('onmouseover="x');
  });

  it('still shows the names, escaped', () => {
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('MONO&amp;CYTE');
    expect(html).toContain('LYMPHO&quot;CYTE&#39; onmouseover=&quot;x');
    expect(html).toContain('&quot;&gt;&lt;svg onload=alert(3)&gt;.jpeg');
    expect(count(html, '<img ')).toBe(data.mistakes.length);
  });
});

describe('renderReport edge cases', () => {
  it('says every answer is flagged when no threshold reached the target', async () => {
    const data = await buildReportFixture({ calibration: 'unmet' });
    data.calibration = { ...data.calibration!, threshold: 1, coverage: 0, accuracyAboveThreshold: 0, met: false };
    const doubt = sectionOf(renderReport(data), 'doubt');
    expect(doubt).toContain('so the threshold is 1: every answer is flagged for review.');
    expect(doubt).toContain('every answer of this version is flagged for review');
    expect(doubt).not.toContain('0.0% right');
  });

  it.each([
    ['validation', 'Fitted and scored on the same cells.', 'the same validation cells it is scored on'],
    ['out-of-fold', 'Fitted on out-of-fold predictions.', 'the same out-of-fold predictions it is scored on'],
  ] as const)('says what the calibration was fitted on: %s', async (source, caveat, doubt) => {
    const data = await buildReportFixture({ calibration: 'met', crossValidation: true });
    data.calibration = { ...data.calibration!, source };
    const html = renderReport(data);
    expect(sectionOf(html, 'calibration')).toContain(caveat);
    expect(sectionOf(html, 'doubt')).toContain(doubt);
  });

  it.each([
    [{ images: 400, coverage: 0.5, accuracyAboveThreshold: 0.96 }, 'on its own validation split (400 cells) the threshold keeps 50.0%, and 96.0% of those are right'],
    [{ images: 400, coverage: 0, accuracyAboveThreshold: null }, 'on its own validation split (400 cells) the threshold keeps 0.0%, and none are answered without review'],
  ])('says how the out-of-fold policy holds on the served model\'s validation split: %o', async (servedValidation, text) => {
    const data = await buildReportFixture({ calibration: 'met', crossValidation: true });
    data.calibration = { ...data.calibration!, source: 'out-of-fold', servedValidation };
    expect(sectionOf(renderReport(data), 'calibration')).toContain(text);
  });

  it('adds accuracy per source photo to the folds table when the results carry it', async () => {
    const data = await buildReportFixture({ crossValidation: true });
    const without = sectionOf(renderReport(data), 'cross-validation');
    expect(without).not.toContain('Accuracy per photo');
    expect(without).not.toContain('each source photo counted once');
    const cv = data.crossValidation!;
    const perPhoto = [0.801, 0.812, 0.823, 0.834, 0.845];
    data.crossValidation = { ...cv, rows: cv.rows.map((r, i) => ({ ...r, photoAccuracy: perPhoto[i] })), photoAccuracy: { mean: 0.823, std: 0.0174 } };
    const section = sectionOf(renderReport(data), 'cross-validation');
    expect(section).toContain('<th>Accuracy</th><th>Accuracy per photo</th><th>Macro-F1</th>');
    for (const v of ['80.1%', '81.2%', '82.3%', '83.4%', '84.5%']) expect(section).toContain(`<td>${v}</td>`);
    expect(section).toContain('each source photo counted once: 82.3%');
    // Every row has as many cells as the header.
    const rows = [...section.matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map((m) => (m[1].match(/<t[hd][ >]/g) ?? []).length);
    expect(new Set(rows.slice(0, 8))).toEqual(new Set([7]));
  });

  it('names content grouping and the folds\' grouping in the headline', async () => {
    const data = await buildReportFixture({ crossValidation: true });
    data.manifest.metrics.split = { ...data.manifest.metrics.split, method: 'content', groups: 270 };
    data.crossValidation = { ...data.crossValidation!, grouping: 'content (270 groups)' };
    const summary = sectionOf(renderReport(data), 'summary');
    expect(summary).toContain('Source photos found from the pixels (content grouping): 270 groups; cross-validation folds by content (270 groups).');
  });

  it('draws charts from a single epoch', async () => {
    const html = renderReport(await buildReportFixture({ epochs: 1 }));
    const curves = sectionOf(html, 'curves');
    expect(count(curves, '<svg class="chart"')).toBe(2);
    expect(count(curves, 'best epoch 1<')).toBe(2);
    expect(curves).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('names the last epoch as kept, not best, when the run kept the last', async () => {
    const data = await buildReportFixture();
    data.manifest.training = { ...data.manifest.training, bestEpoch: 15, keepEpoch: 'last' };
    const html = renderReport(data);
    expect(html.slice(html.indexOf('<header'), html.indexOf('</header>'))).toContain('15 of 20 run, kept the last (15)');
    const curves = sectionOf(html, 'curves');
    expect(count(curves, 'kept epoch 15<')).toBe(2);
    expect(curves).not.toContain('best epoch');
  });

  it('says so when there are no mistakes on validation', async () => {
    const html = renderReport(await buildReportFixture({ mistakes: 0 }));
    expect(sectionOf(html, 'mistakes')).toContain('No mistakes on validation');
    expect(count(html, '<img ')).toBe(0);
    expect(html).not.toContain('data:image');
  });

  it('says none when no file was skipped', async () => {
    const html = renderReport(await buildReportFixture({ skipped: 0 }));
    const ds = sectionOf(html, 'dataset');
    expect(ds).toContain('None: every file in the folder was read.');
    expect(ds).toContain('<dt>Skipped files</dt><dd>none</dd>');
    expect(ds).not.toContain('<table class="skipped"');
  });

  it('says there are no curves when no epoch finished', async () => {
    const data = await buildReportFixture();
    data.history = [];
    const curves = sectionOf(renderReport(data), 'curves');
    expect(curves).toContain('No epoch finished');
    expect(curves).not.toContain('<svg');
  });

  it('never prints NaN, undefined or Infinity', async () => {
    // Base64 thumbnails may spell anything, so only the text around them counts.
    const html = renderReport(await buildReportFixture()).replace(/data:image\/png;base64,[^"]+/g, '');
    expect(html).not.toMatch(/NaN|undefined|Infinity|\[object/);
  });
});

describe('renderReport rejects inconsistent data with a clear error', () => {
  const cases: [string, (d: Awaited<ReturnType<typeof buildReportFixture>>) => void, RegExp][] = [
    ['a confusion matrix of the wrong size', (d) => d.quantizedEvaluation.confusion.pop(), /quantised confusion matrix must be 4×4/],
    ['evaluation classes that differ from the manifest', (d) => (d.floatEvaluation.classes = ['a', 'b', 'c', 'd']), /float evaluation has classes \[a, b, c, d\]/],
    ['a thumbnail that is not a PNG', (d) => (d.mistakes[1].thumbnailPng = new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), /thumbnail of mistake .* is not a PNG/],
    ['a probability above 1', (d) => (d.mistakes[0].probability = 1.5), /probability 1.5, outside \[0, 1\]/],
    ['epochs out of order', (d) => (d.history[3].epoch = 2), /history entry 3 has epoch 2/],
  ];
  it.each(cases)('%s', async (_, spoil, message) => {
    const data = await buildReportFixture();
    spoil(data);
    expect(() => renderReport(data)).toThrow(ReportDataError);
    expect(() => renderReport(data)).toThrow(message);
  });
});

describe('report number formats', () => {
  it.each([
    [percent(0.90625), '90.6%'],
    [percent(1), '100.0%'],
    [percent(Number.NaN), 'n/a'],
    [points(-0.00625), '−0.6 pts'],
    [points(0.012), '+1.2 pts'],
    [points(0.0001), '±0.0 pts'],
    [score(0.89979), '0.900'],
    [scoreDelta(-0.0062), '−0.006'],
    [thousands(1234567), '1,234,567'],
    [bytes(512), '512 B'],
    [bytes(71_892), '70.2 KB'],
    [bytes(5 * 1024 * 1024), '5.00 MB'],
    [duration(4_200), '4.2 s'],
    [duration(647_000), '10 min 47 s'],
    [duration(3_725_000), '1 h 2 min'],
    [timestamp('2025-06-03T14:27:09.512Z'), '2025-06-03 14:27 UTC'],
    [timestamp('yesterday'), 'yesterday'],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });

  it.each([
    [0, 1.35, [0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4]],
    [0.3, 1, [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]],
    [2, 2, [1.8, 1.9, 2, 2.1, 2.2]],
  ])('niceTicks(%d, %d) covers the range on round numbers', (min, max, ticks) => {
    expect(niceTicks(min, max, 5).ticks).toEqual(ticks);
  });
});
