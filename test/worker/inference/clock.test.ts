import { beforeAll, describe, expect, it } from 'vitest';
import { clockMoves, liveClock } from '../../../worker/clock.ts';
import { classify, newToken, publishFixture, sampleBytes } from '../helpers.ts';

describe('clockMoves', () => {
  const movingOnRead = (n: number) => {
    let reads = 0;
    return () => (++reads >= n ? 1 : 0);
  };
  it.each([
    ['a frozen clock, as deployed to Cloudflare', () => 5, false],
    ['a clock that moves on the 3rd read', movingOnRead(3), true],
    ['a clock that moves only after the spins', movingOnRead(1_000_002), false],
    ['this runtime\'s Date.now', Date.now, true],
  ])('%s: %s', (_, now, moves) => {
    expect(clockMoves(now)).toBe(moves);
  });

  it('finds the local workerd clock live, so a classify pays no timer between its phases', () => {
    expect(liveClock()).toBe(true);
  });
});

describe('classify timing', () => {
  let token: string;
  beforeAll(async () => {
    await publishFixture();
    token = await newToken();
  });

  // Each phase reads whole milliseconds; over a few requests the decode and inference must show.
  it('reports the phases the clock saw, without the timers', async () => {
    const sums = { decodeMs: 0, preprocessMs: 0, inferMs: 0 };
    for (let i = 0; i < 8; i++) {
      const { timing } = await (await classify(sampleBytes(i), token)).json<any>();
      for (const key of Object.keys(sums) as (keyof typeof sums)[]) {
        expect(timing[key]).toBeGreaterThanOrEqual(0);
        sums[key] += timing[key];
      }
    }
    expect(sums.decodeMs).toBeGreaterThan(0);
    expect(sums.inferMs).toBeGreaterThan(0);
  });
});
