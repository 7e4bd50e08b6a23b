import { describe, expect, it } from 'vitest';
import { plusMinusPoints, percentSpread, scoreSpread, threshold } from '../../../trainer/report/format.ts';
import { ReportDataError, renderReport } from '../../../trainer/report/render-report.ts';
import { coverageRows, doubtSentence } from '../../../trainer/report/sections-calibration.ts';
import type { CalibrationReport, ReportData } from '../../../trainer/report/types.ts';
import { buildReportFixture, FIXTURE_CLASSES, type ReportFixtureOptions } from './report-fixture.ts';
import { count, sectionOf, text } from './report-html.ts';

describe('report sections for calibration, doubt and cross-validation', () => {
  const cases: [string, ReportFixtureOptions, string[], string[]][] = [
    ['neither', {}, [], ['calibration', 'doubt', 'cross-validation', 'cv-card', 'review-card']],
    ['calibration only', { calibration: 'met' }, ['calibration', 'doubt', 'review-card'], ['cross-validation', 'cv-card']],
    ['cross-validation only', { crossValidation: true }, ['cross-validation', 'cv-card'], ['calibration', 'doubt', 'review-card']],
    ['both', { calibration: 'met', crossValidation: true }, ['calibration', 'doubt', 'cross-validation', 'cv-card', 'review-card'], []],
  ];
  it.each(cases)('%s: present exactly when their data is', async (_, options, present, absent) => {
    const html = renderReport(await buildReportFixture(options));
    for (const id of present) expect(count(html, `id="${id}"`), id).toBe(1);
    for (const id of absent) expect(html, id).not.toContain(`id="${id}"`);
    expect(html).not.toMatch(/\n\n<section/);
  });

  it('orders them after the quantisation section and before the dataset', async () => {
    const html = renderReport(await buildReportFixture({ calibration: 'met', crossValidation: true }));
    const order = ['quantization', 'calibration', 'doubt', 'cross-validation', 'dataset'].map((id) => html.indexOf(`<section id="${id}"`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});

describe('calibration, doubt and cross-validation on a realistic run', async () => {
  const data = await buildReportFixture({ calibration: 'met', crossValidation: true });
  const c = data.calibration!;
  const html = renderReport(data);

  it('puts the cross-validated accuracy and the review coverage among the headline figures', () => {
    const summary = text(sectionOf(html, 'summary'));
    // Folds 93.17, 91.14, 94.44, 90.45, 92.50: mean 92.34, sample std 1.56 points.
    expect(summary).toContain('Cross-validated accuracy (5 grouped folds) 92.3% ± 1.6 pts');
    expect(summary).toContain('macro-F1 0.921 ± 0.017');
    expect(summary).toContain('Classified without review 94.4% 97.4% of them right at threshold 0.717; 5.6% flagged for review');
    expect(summary).toContain('that is the accuracy to quote');
  });

  it('states temperature, test-time augmentation and ECE before and after', () => {
    const s = text(sectionOf(html, 'calibration'));
    expect(s).toContain(`Temperature ${c.temperature.toFixed(3)} Above 1: the model was overconfident`);
    expect(c.temperature).toBeGreaterThan(1);
    expect(s).toContain('Test-time augmentation 8 views');
    expect(s).toContain('ECE before (the model\'s own probabilities) 0.044');
    expect(s).toContain('ECE after the temperature 0.039 −0.004 against before');
    expect(s).toContain('over 15 equal-width bins');
  });

  it('draws two reliability diagrams with the diagonal and a hover title and count per bin', () => {
    const s = sectionOf(html, 'calibration');
    expect(count(s, '<svg class="chart"')).toBe(2);
    expect(count(s, 'stroke-dasharray="5 4"/>')).toBeGreaterThanOrEqual(2);
    for (const bins of [c.binsBefore, c.binsAfter]) {
      const filled = bins.filter((b) => b.count > 0).length;
      expect(filled).toBeGreaterThan(3);
    }
    expect(count(s, '<g class="bin"><title>')).toBe(30);
    const counts = [...s.matchAll(/class="bin-count[^"]*"[^>]*>([^<]+)</g)].map((m) => m[1]);
    expect(counts).toEqual([...c.binsBefore, ...c.binsAfter].map((b) => (b.count ? String(b.count) : '–')));
    const top = c.binsAfter[14];
    expect(s).toContain(`<title>Confidence 93.3%–100.0%: ${top.count} cells, mean confidence ${(100 * top.confidence).toFixed(1)}%, ${(100 * top.accuracy).toFixed(1)}% correct</title>`);
    expect(s).toContain('<title>Confidence 0.0%–6.7%: no cells</title>');
  });

  it('tabulates every bin, before and after, for readers who cannot see the charts', () => {
    const s = sectionOf(html, 'calibration');
    const table = s.slice(s.indexOf('<table class="bins">'));
    expect(count(table, '<tr><td>')).toBe(15);
    expect(table).toContain('<tr><td>0.0%–6.7%</td><td>0</td><td>–</td><td>–</td><td>0</td><td>–</td><td>–</td></tr>');
  });

  it('says the temperature was fitted on the cells it is scored on, and points to the out-of-fold check', () => {
    const s = text(sectionOf(html, 'calibration'));
    expect(s).toContain('Fitted and scored on the same cells. The temperature was fitted on the 160 validation cells');
    // Fold ECEs 0.0312, 0.0418, 0.0227, 0.0486, 0.0291: mean 0.0347.
    expect(s).toContain("measures ECE on each of its 5 folds' held-out images, with a temperature fitted without them (mean 0.035): that is the out-of-fold check");
  });

  it('says what the threshold gives, in one sentence, and that the targets were met', () => {
    const s = text(sectionOf(html, 'doubt'));
    expect(s).toContain('At threshold 0.717, 94.4% of cells are classified without review, with 97.4% accuracy; the rest (5.6%) are flagged for review.');
    expect(s).toContain('Targets met: at least 97.0% accuracy on at least 90.0% of cells.');
    expect(s).not.toContain('not met');
  });

  it('draws the accuracy-coverage curve with the targets and the chosen threshold', () => {
    const s = sectionOf(html, 'doubt');
    expect(count(s, '<svg class="chart"')).toBe(1);
    expect(count(s, '<path class="coverage-curve" d="M')).toBe(1);
    expect(count(s, /<path class="coverage-curve" d="[^"]*L/g)).toBe(1);
    expect(s).toContain('>target accuracy 97.0%</text>');
    expect(s).toContain('>minimum coverage 90.0%</text>');
    expect(s).toContain('>threshold 0.717: 94.4% covered, 97.4% right</text>');
    expect(s).toContain('class="target-region"');
    expect(s).toMatch(/<tr class="best-row"><td>0\.717 \(chosen\)<\/td><td>94\.4%<\/td><td>97\.4%<\/td><td>5\.6%<\/td><\/tr>/);
  });

  it('tabulates the folds with their mean and spread, per class too, and the command', () => {
    const s = sectionOf(html, 'cross-validation');
    expect(s).toContain('<tr><td>1</td><td>161</td><td>27</td><td>93.2%</td><td>0.930</td><td>0.031</td></tr>');
    expect(count(s, /<tr><td>\d<\/td>/g)).toBe(5);
    expect(s).toContain('<tr class="total"><td>Mean</td><td>798 in all</td><td>134 in all</td><td>92.3%</td><td>0.921</td><td>0.035</td></tr>');
    expect(s).toContain('<td>Std</td><td></td><td></td><td>± 1.6 pts</td><td>± 0.017</td><td>± 0.010</td>');
    expect(s).toContain('folds range 90.5% to 94.4%');
    // Monocyte precision over folds 0.88, 0.85, 0.91, 0.84, 0.87: mean 0.870, sample std 0.027.
    expect(s).toContain('<td class="name">MONOCYTE</td><td>0.870 ± 0.027</td><td>0.834 ± 0.040</td><td>0.852 ± 0.034</td>');
    const rows = [...s.matchAll(/<td class="name">([^<]+)<\/td>/g)].map((m) => m[1]);
    expect(rows).toEqual(FIXTURE_CLASSES);
    expect(s).toContain('<code>npm run cv -- --data ../shared/data/blood-cells/TRAIN --folds 5 --seed 42</code>');
  });

  it('never prints NaN, undefined or Infinity', () => {
    expect(html.replace(/data:image\/png;base64,[^"]+/g, '')).not.toMatch(/NaN|undefined|Infinity|\[object/);
  });
});

describe('doubt when the targets are not met', () => {
  it('warns when coverage falls short, naming the figures', async () => {
    const html = renderReport(await buildReportFixture({ calibration: 'unmet' }));
    const s = text(sectionOf(html, 'doubt'));
    expect(sectionOf(html, 'doubt')).toContain('<div class="warning" id="doubt-verdict"');
    expect(s).toMatch(/Targets not met\. No threshold gives at least 97\.0% accuracy on at least 90\.0% of cells: only \d+\.\d% of cells are classified without review, below the minimum of 90\.0%\./);
    expect(text(sectionOf(html, 'summary'))).toContain('(targets not met)');
    expect(text(sectionOf(html, 'calibration'))).toContain('This run was not cross-validated, so there is no out-of-fold check');
  });

  it('warns when accuracy falls short too', async () => {
    const data = await buildReportFixture({ calibration: 'unmet' });
    const c = data.calibration!;
    const at = c.curve.find((p) => p.coverage >= 0.9)!;
    data.calibration = { ...c, targetAccuracy: 0.995, threshold: at.threshold, coverage: at.coverage, accuracyAboveThreshold: at.accuracy, met: false };
    const s = text(sectionOf(renderReport(data), 'doubt'));
    expect(s).toContain(`the cells above the threshold are ${(100 * at.accuracy).toFixed(1)}% right, below the target of 99.5%`);
    expect(s).not.toContain('below the minimum');
  });
});

describe('doubt figures', () => {
  const base: CalibrationReport = {
    tta: 'none', temperature: 1, eceBefore: 0, eceAfter: 0, binsBefore: [], binsAfter: [],
    curve: [
      { threshold: 0.99983, coverage: 0.5, accuracy: 1 },
      { threshold: 0.9, coverage: 0.62, accuracy: 0.99 },
      { threshold: 0.8, coverage: 0.93, accuracy: 0.975 },
      { threshold: 0.4, coverage: 1, accuracy: 0.95 },
    ],
    threshold: 0.8, coverage: 0.93, accuracyAboveThreshold: 0.975, targetAccuracy: 0.97, minCoverage: 0.9, met: true,
  };
  it.each([
    [base, 'At threshold 0.800, 93.0% of cells are classified without review, with 97.5% accuracy; the rest (7.0%) are flagged for review.'],
    [{ ...base, threshold: 0.99983, coverage: 0.5, accuracyAboveThreshold: 1 }, 'At threshold 0.9998, 50.0% of cells are classified without review, with 100.0% accuracy; the rest (50.0%) are flagged for review.'],
    [{ ...base, threshold: 0, coverage: 1, accuracyAboveThreshold: 0.95 }, 'At threshold 0, 100.0% of cells are classified without review, with 95.0% accuracy; none is flagged for review, since all cells together already reach the target accuracy.'],
  ])('%#: %s', (c, sentence) => {
    expect(doubtSentence(c)).toBe(sentence);
  });

  it('tabulates round coverages and the chosen point once, lowest coverage first', () => {
    const rows = coverageRows(base);
    expect(rows.map((r) => [r.coverage, r.chosen])).toEqual([[0.5, false], [0.62, false], [0.93, true], [1, false]]);
  });
});

describe('a long accuracy-coverage curve', () => {
  it('is thinned to what a screen can show, and still ends at full coverage', async () => {
    const data = await buildReportFixture({ calibration: 'met' });
    const n = 20_000;
    const curve = Array.from({ length: n }, (_, i) => ({ threshold: 1 - (i + 1) / (n + 1), coverage: (i + 1) / n, accuracy: 1 - 0.08 * ((i + 1) / n) ** 3 }));
    const chosen = curve.find((p) => p.accuracy < 0.97)!;
    const previous = curve[curve.indexOf(chosen) - 1];
    data.calibration = { ...data.calibration!, curve, threshold: previous.threshold, coverage: previous.coverage, accuracyAboveThreshold: previous.accuracy, met: false };
    const s = sectionOf(renderReport(data), 'doubt');
    const d = /<path class="coverage-curve" d="([^"]+)"/.exec(s)![1];
    const points = d.split(/[ML]/).filter(Boolean);
    expect(points.length).toBeLessThan(2_000);
    expect(points.length).toBeGreaterThan(100);
    // The last point is full coverage, at the right edge of the plot.
    expect(points[points.length - 1]).toMatch(/^696,/);
    expect(s.length).toBeLessThan(60_000);
  });
});

describe('report escapes user text in the new sections', () => {
  it('never lets a tag from a class name or the command through', async () => {
    const evil = '<script>alert(1)</script>';
    const data = await buildReportFixture({ classes: [evil, 'LYMPHOCYTE', 'MONO&CYTE', '<img src=x onerror=alert(2)>'], calibration: 'met', crossValidation: true });
    data.crossValidation!.command = `npm run cv -- --data "${evil}"`;
    const html = renderReport(data);
    expect(html).not.toMatch(/<script|<img src=x/i);
    const s = sectionOf(html, 'cross-validation');
    expect(s).toContain('<td class="name">&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(s).toContain('<td class="name">MONO&amp;CYTE</td>');
    expect(s).toContain('--data &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;</code>');
  });
});

type Spoil = (d: ReportData) => void;
describe('renderReport rejects inconsistent calibration or cross-validation data', () => {
  const cal = (d: ReportData) => d.calibration!;
  const cv = (d: ReportData) => d.crossValidation!;
  const cases: [string, Spoil, RegExp][] = [
    ['an unknown test-time augmentation', (d) => (cal(d).tta = 'rot4' as 'none'), /calibration\.tta is "rot4": expected "none" or "dihedral8"/],
    ['a temperature of 0', (d) => (cal(d).temperature = 0), /calibration\.temperature is 0: it must be a positive number/],
    ['an ECE above 1', (d) => (cal(d).eceAfter = 1.2), /calibration\.eceAfter is 1\.2, outside \[0, 1\]/],
    ['bins out of order', (d) => cal(d).binsBefore.reverse(), /calibration binsBefore\[0\] starts at 0\.93\d+, expected 0: bins must be ordered/],
    ['a bin beyond 1', (d) => (cal(d).binsAfter[14].upper = 1.5), /calibration binsAfter\[14\]\.upper is 1\.5, outside \[0, 1\]/],
    ['a bin with a fractional count', (d) => (cal(d).binsAfter[14].count += 0.5), /binsAfter\[14\]\.count is [\d.]+: it must be a whole count/],
    ['a mean confidence outside its bin', (d) => (cal(d).binsBefore[14].confidence = 0.5), /binsBefore\[14\] has mean confidence 0\.5, outside its range/],
    ['bins counting different cells', (d) => (cal(d).binsAfter[14].count += 1), /bins hold 160 cells before and 161 after/],
    ['fewer bins after than before', (d) => cal(d).binsAfter.splice(14, 1), /binsAfter end at 0\.93\d+: the last bin must reach 1/],
    ['an empty curve', (d) => (cal(d).curve = []), /calibration\.curve is empty/],
    ['a curve out of order', (d) => cal(d).curve.reverse(), /calibration\.curve\[1\] .* is out of order/],
    ['a chosen point not on the curve', (d) => (cal(d).coverage = 0.5), /calibration coverage 0\.5 with accuracy [\d.]+ is not a point of calibration\.curve/],
    ['met that the figures contradict', (d) => (cal(d).minCoverage = 0.99), /calibration\.met is true, but accuracy [\d.]+ \(target 0\.97\) and coverage [\d.]+ \(minimum 0\.99\) say false/],
    ['a single fold', (d) => (cv(d).folds = 1), /crossValidation\.folds is 1: k-fold needs a whole number of folds, 2 or more/],
    ['a row missing', (d) => cv(d).rows.pop(), /crossValidation has 4 rows for 5 folds/],
    ['a fold twice', (d) => (cv(d).rows[1].fold = 1), /crossValidation\.rows\[1\]\.fold is 1: folds must be distinct/],
    ['a fold accuracy above 1', (d) => (cv(d).rows[2].accuracy = 94.4), /crossValidation\.rows\[2\]\.accuracy is 94\.4, outside \[0, 1\]/],
    ['a mean outside the folds', (d) => (cv(d).accuracy.mean = 0.99), /crossValidation\.accuracy\.mean is 0\.99, outside the folds' range \[0\.9045, 0\.9444\]/],
    ['a negative spread', (d) => (cv(d).macroF1.std = -0.01), /crossValidation\.macroF1\.std is -0\.01: it must be 0 or more/],
    ['a class missing from the per-class figures', (d) => delete cv(d).perClass.MONOCYTE, /crossValidation\.perClass has no figures for "MONOCYTE"/],
    ['a class the model does not have', (d) => (cv(d).perClass.BASOPHIL = cv(d).perClass.MONOCYTE), /crossValidation\.perClass names "BASOPHIL", which is not among the manifest's classes/],
    ['a per-class figure outside [0, 1]', (d) => (cv(d).perClass.LYMPHOCYTE.recall.mean = 1.1), /crossValidation\.perClass\["LYMPHOCYTE"\]\.recall\.mean is 1\.1, outside \[0, 1\]/],
    ['no command', (d) => (cv(d).command = ' '), /crossValidation\.command is empty/],
  ];
  it.each(cases)('%s', async (_, spoil, message) => {
    const data = await buildReportFixture({ calibration: 'met', crossValidation: true, mistakes: 0 });
    spoil(data);
    expect(() => renderReport(data)).toThrow(ReportDataError);
    expect(() => renderReport(data)).toThrow(message);
  });
});

describe('report number formats for spreads and thresholds', () => {
  it.each([
    [percentSpread({ mean: 0.92342, std: 0.01561 }), '92.3% ± 1.6 pts'],
    [percentSpread({ mean: Number.NaN, std: 0.01 }), 'n/a'],
    [plusMinusPoints(0.0104), '± 1.0 pts'],
    [scoreSpread({ mean: 0.92128, std: 0.0171 }), '0.921 ± 0.017'],
    [threshold(0.71657), '0.717'],
    [threshold(0.95), '0.950'],
    [threshold(0.99983), '0.9998'],
    [threshold(0.9999962), '0.999996'],
    [threshold(0), '0'],
    [threshold(Number.NaN), 'n/a'],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });
});
