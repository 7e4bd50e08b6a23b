import { describe, expect, it } from 'vitest';
import { serverTimingTotal } from '../../bench/worker/http.ts';

describe('serverTimingTotal', () => {
  it.each([
    { header: 'decode;dur=1.0,preprocess;dur=0.0,infer;dur=2.0,total;dur=4.3;desc="in the Worker"', want: 4.3 },
    { header: 'total;dur=12', want: 12 },
    { header: 'total;desc="x";dur=0.5', want: 0.5 },
    { header: 'subtotal;dur=9,total;dur=2.5', want: 2.5 },
    { header: 'decode;dur=1.0', want: null },
    { header: '', want: null },
    { header: undefined, want: null },
  ])('$header -> $want', ({ header, want }) => {
    expect(serverTimingTotal(header)).toBe(want);
  });
});
