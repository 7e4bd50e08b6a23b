import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kernelReclaimRunning, loopbackFloor } from '../../bench/worker/machine.ts';

describe('loopbackFloor', () => {
  it('times requests to a real idle server: positive percentiles in order', async () => {
    const { p50, p95, p99 } = await loopbackFloor(200);
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
  });
});

describe('kernelReclaimRunning', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  /** A kdamonds folder as the kernel lays it out: one numbered folder per monitor, each with a state file. */
  const kdamonds = (states: (string | null)[]) => {
    const root = mkdtempSync(join(tmpdir(), 'kdamonds-'));
    dirs.push(root);
    writeFileSync(join(root, 'nr_kdamonds'), `${states.length}\n`);
    states.forEach((state, i) => {
      mkdirSync(join(root, String(i)));
      if (state !== null) writeFileSync(join(root, String(i), 'state'), `${state}\n`);
    });
    return root;
  };

  it.each([
    { name: 'one monitor on', states: ['on'], want: true },
    { name: 'every monitor off', states: ['off', 'off'], want: false },
    { name: 'the second of two on', states: ['off', 'on'], want: true },
    { name: 'no monitor', states: [], want: false },
    { name: 'a monitor without a state file', states: [null], want: false },
  ])('$name', ({ states, want }) => {
    expect(kernelReclaimRunning(kdamonds(states))).toBe(want);
  });

  it('says null where the kernel has no DAMON', () => {
    expect(kernelReclaimRunning(join(tmpdir(), 'no-such-kdamonds-folder'))).toBeNull();
  });
});
