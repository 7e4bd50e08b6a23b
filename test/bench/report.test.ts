import { describe, expect, it } from 'vitest';
import { slowNeighbours } from '../../bench/worker/report.ts';

describe('slowNeighbours', () => {
  it.each([
    { name: 'none slow', requests: [5, 5, 6, 5], neighbours: [2, 2, 2, 2], expected: { slow: 0, withSlowNeighbour: 0 } },
    // requests[i] is followed by neighbours[i] and preceded by neighbours[i - 1].
    { name: 'neighbour after', requests: [5, 20, 5, 5], neighbours: [2, 9, 2, 2], expected: { slow: 1, withSlowNeighbour: 1 } },
    { name: 'neighbour before', requests: [5, 5, 20, 5], neighbours: [2, 9, 2, 2], expected: { slow: 1, withSlowNeighbour: 1 } },
    { name: 'neighbour two away does not count', requests: [5, 5, 5, 20], neighbours: [2, 9, 2, 2], expected: { slow: 1, withSlowNeighbour: 0 } },
    { name: 'exactly 2x p50 is not slow', requests: [5, 10, 5, 5], neighbours: [2, 2, 2, 2], expected: { slow: 0, withSlowNeighbour: 0 } },
    { name: 'the first request has no neighbour before', requests: [20, 5, 5, 5], neighbours: [2, 2, 2, 2], expected: { slow: 1, withSlowNeighbour: 0 } },
  ])('$name', ({ requests, neighbours, expected }) => {
    expect(slowNeighbours(requests, neighbours)).toEqual(expected);
  });

  it('takes another factor', () => {
    expect(slowNeighbours([5, 8, 5, 5], [2, 3.5, 2, 2], 1.5)).toEqual({ slow: 1, withSlowNeighbour: 1 });
  });
});
