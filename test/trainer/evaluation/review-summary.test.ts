import { describe, expect, it } from 'vitest';
import { evaluationFromConfusion, needsReview, plainInference } from '../../../shared/index.ts';
import { csvField, formatReview, predictionsCsv, reviewSummary, type ReviewSummary } from '../../../trainer/evaluation/review-summary.ts';
import { parseCsv } from '../csv-parse.ts';

const scored = (rows: number[][], labels: number[]) => ({ probabilities: rows.flat(), labels, classCount: rows[0].length });

describe('reviewSummary', () => {
  it.each<[string, number[][], number[], number, ReviewSummary]>([
    ['one kept and right, one flagged and wrong', [[0.9, 0.1], [0.6, 0.4]], [0, 1], 0.8,
      { threshold: 0.8, coverage: 0.5, accuracyAbove: 1, errorsFlagged: 1 }],
    ['threshold 0 flags nothing', [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], [0, 1, 1], 0,
      { threshold: 0, coverage: 1, accuracyAbove: 2 / 3, errorsFlagged: 0 }],
    ['no wrong answers: errorsFlagged is null', [[0.9, 0.1], [0.2, 0.8]], [0, 1], 0.85,
      { threshold: 0.85, coverage: 0.5, accuracyAbove: 1, errorsFlagged: null }],
    ['everything flagged: accuracyAbove is null', [[0.6, 0.4], [0.55, 0.45]], [1, 0], 0.99,
      { threshold: 0.99, coverage: 0, accuracyAbove: null, errorsFlagged: 1 }],
    ['a top probability equal to the threshold is kept', [[0.75, 0.25], [0.25, 0.75]], [0, 0], 0.75,
      { threshold: 0.75, coverage: 1, accuracyAbove: 0.5, errorsFlagged: 0 }],
    ['three classes, a confident error slips through', [[0.1, 0.85, 0.05], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.05, 0.05, 0.9]], [0, 0, 1, 2], 0.7,
      { threshold: 0.7, coverage: 0.5, accuracyAbove: 0.5, errorsFlagged: 0.5 }],
    ['no images', [[]], [], 0.5, { threshold: 0.5, coverage: 0, accuracyAbove: null, errorsFlagged: null }],
  ])('%s', (_, rows, labels, threshold, expected) => {
    expect(reviewSummary(scored(rows, labels), threshold)).toEqual(expected);
  });

  it('flags exactly what shared needsReview flags, over a sweep of thresholds', () => {
    const rows = [[0.5, 0.5], [0.7, 0.3], [0.2, 0.8], [0.95, 0.05], [0.4, 0.6]];
    for (const threshold of [0, 0.5, 0.6, 0.7, 0.8, 0.95, 1]) {
      const kept = rows.filter((r) => !needsReview(Math.max(...r), { ...plainInference, reviewThreshold: threshold })).length;
      expect(reviewSummary(scored(rows, [0, 0, 1, 0, 1]), threshold).coverage).toBe(kept / rows.length);
    }
  });
});

describe('csvField', () => {
  it.each([
    ['MONOCYTE/a.jpeg', 'MONOCYTE/a.jpeg'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['', ''],
  ])('%j -> %j', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});

describe('predictionsCsv', () => {
  const classes = ['A,1', 'B "quoted"', 'C'];
  const rows = [
    { path: 'A,1/x.jpeg', label: 0, probabilities: [0.8, 0.15, 0.05], outOfDomain: false },
    { path: 'C/line\nbreak "y".png', label: 2, probabilities: [0.1, 0.5, 0.4], outOfDomain: true },
    { path: 'B/z.png', label: 1, probabilities: [0.2, 0.7, 0.1], outOfDomain: null },
  ];
  const parsed = parseCsv(predictionsCsv(classes, rows, 0.6));

  it('has the exact header, class columns in the given order', () => {
    expect(parsed[0]).toEqual(['path', 'label', 'predicted', 'confidence', 'review', ...classes, 'outOfDomain']);
  });

  it('writes one row per image that reads back to the same values', () => {
    expect(parsed.slice(1)).toEqual([
      ['A,1/x.jpeg', 'A,1', 'A,1', '0.8', 'false', '0.8', '0.15', '0.05', 'false'],
      ['C/line\nbreak "y".png', 'C', 'B "quoted"', '0.5', 'true', '0.1', '0.5', '0.4', 'true'],
      ['B/z.png', 'B "quoted"', 'B "quoted"', '0.7', 'false', '0.2', '0.7', '0.1', ''],
    ]);
  });
});

describe('formatReview', () => {
  const ev = evaluationFromConfusion(['A', 'B'], [[3, 1], [0, 4]]);

  it.each<[string, ReviewSummary, RegExp[]]>([
    ['with a threshold', { threshold: 0.8, coverage: 0.75, accuracyAbove: 1, errorsFlagged: 1 },
      [/^ECE 0\.042 /, /review below 0\.800: 6 of 8 images kept \(75\.0%\), 100\.0% of them correct; 1 of 1 wrong answers flagged/]],
    ['without one', { threshold: 0, coverage: 1, accuracyAbove: 0.875, errorsFlagged: 0 },
      [/no review threshold \(nothing flagged\): 8 of 8 images kept \(100\.0%\), 87\.5% of them correct; 0 of 1 wrong answers flagged/]],
    ['everything flagged', { threshold: 0.99, coverage: 0, accuracyAbove: null, errorsFlagged: 1 },
      [/0 of 8 images kept \(0\.0%\); 1 of 1 wrong answers flagged/]],
  ])('%s', (_, review, patterns) => {
    const text = formatReview(0.0421, review, ev);
    expect(text.split('\n')).toHaveLength(2);
    for (const p of patterns) expect(text).toMatch(p);
  });
});
