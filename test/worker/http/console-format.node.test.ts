import { describe, expect, it } from 'vitest';
import * as report from '../../../trainer/report/format.ts';
import * as console from '../../../worker/console/public/console/format.js';

// The console (plain browser JavaScript) and the training report (TypeScript in the trainer)
// write their figures with their own code: these keep the two the same.
describe('the console writes numbers as the training report does', () => {
  const fractions = [0, 0.0004, 0.0692, 0.5, 0.69249, 0.8571, 0.99951, 1];

  it.each(fractions)('percent and score of %d', (x) => {
    expect(console.percent(x)).toBe(report.percent(x));
    expect(console.percent(x, 0)).toBe(report.percent(x, 0));
    expect(console.score(x)).toBe(report.score(x));
  });

  it.each([0, 512, 1023, 1024, 71234, 1048575, 1048576, 5_000_000])('bytes %d', (n) => {
    expect(console.bytes(n)).toBe(report.bytes(n));
  });

  it.each([0, 7, 999, 1000, 12345, 2198.4, 9957000])('count %d', (n) => {
    expect(console.count(n)).toBe(report.count(n));
  });

  it('shows a missing value as a dash', () => {
    expect([console.percent(null), console.score(undefined), console.ms(null), console.score(Number.NaN)]).toEqual(['–', '–', '–', '–']);
  });

  it('reads 0.692 as "0.692" and 0.8571 as "85.7%"', () => {
    expect([console.score(0.692), console.percent(0.8571)]).toEqual(['0.692', '85.7%']);
  });
});
