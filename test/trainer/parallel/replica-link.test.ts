import { describe, expect, it } from 'vitest';
import { createSharedBuffer, ReplicaLink, type LinkLayout } from '../../../trainer/parallel/replica-link.ts';

const layout: LinkLayout = { replicas: 2, reduceLength: 3, maxBatch: 1, xSize: 1, ySize: 1, weightSizes: [1], trainable: [true] };

describe('ReplicaLink idle work', () => {
  // The other replica arrives during the k-th unit of idle work (played in the same thread, from
  // the idle work itself): the wait does exactly k units, then sums as usual.
  it.each([1, 3, 8])('the other replica arrives during unit %i: that many units, then the sum', (arrival) => {
    const buffer = createSharedBuffer(layout);
    const main = new ReplicaLink(buffer, layout, 0), other = new ReplicaLink(buffer, layout, 1);
    const theirs = Float64Array.of(10, 20, 30);
    let units = 0;
    main.idle = () => {
      units++;
      if (units === arrival) other.sum(theirs);
      return true;
    };
    const mine = Float64Array.of(1, 2, 3);
    main.sum(mine);
    expect(units).toBe(arrival);
    expect([...mine]).toEqual([11, 22, 33]);
    expect([...theirs]).toEqual([11, 22, 33]);
  });

  it('stops calling work that has run out', () => {
    const buffer = createSharedBuffer(layout);
    const main = new ReplicaLink(buffer, layout, 0), other = new ReplicaLink(buffer, layout, 1);
    let units = 0;
    main.idle = () => {
      units++;
      // The last unit: the work is done (false), and the other replica arrives meanwhile.
      if (units === 2) other.sum(new Float64Array(3));
      return units < 2;
    };
    main.sum(new Float64Array(3));
    expect(units).toBe(2);
  });
});
