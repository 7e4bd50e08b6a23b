import { describe, expect, it } from 'vitest';
import { deferredBatch, type WaitUntil } from '../../../worker/deferred-batch.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ignored: WaitUntil = { waitUntil: () => undefined };

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(5);
  if (!condition()) throw new Error('condition not reached in 1 s');
}

describe('deferredBatch', () => {
  it('gathers the items added within the delay into one write per key', async () => {
    const writes: [string, number[]][] = [];
    const record = deferredBatch(10, async (key: string, items: number[]) => void writes.push([key, items]));
    record(ignored, 'a', 1);
    record(ignored, 'b', 2);
    record(ignored, 'a', 3);
    await record.settled('a');
    await record.settled('b');
    expect(writes.sort()).toEqual([['a', [1, 3]], ['b', [2]]]);
    record(ignored, 'a', 4);
    await record.settled('a');
    expect(writes.at(-1)).toEqual(['a', [4]]);
  });

  it('settled waits for a write that has started and not finished (read-your-writes)', async () => {
    let release: () => void = () => undefined;
    let started = false;
    const written: number[][] = [];
    const record = deferredBatch(5, async (_key: string, items: number[]) => {
      started = true;
      await new Promise<void>((resolve) => (release = resolve));
      written.push(items);
    });
    record(ignored, 'k', 1);
    record(ignored, 'k', 2);
    await until(() => started);
    let settled = false;
    const done = record.settled('k').then(() => (settled = true));
    await sleep(30);
    expect(settled).toBe(false);
    release();
    await done;
    expect(written).toEqual([[1, 2]]);
  });

  it('settled resolves after a failed write, whose failure the request still holds', async () => {
    const held: Promise<unknown>[] = [];
    const record = deferredBatch(1, async () => {
      throw new Error('D1 is down');
    });
    record({ waitUntil: (promise) => void held.push(promise.catch((error: Error) => error.message)) }, 'k', 1);
    await expect(record.settled('k')).resolves.toBeUndefined();
    expect(await held[0]).toBe('D1 is down');
    await expect(record.settled('nothing pending')).resolves.toBeUndefined();
  });
});
