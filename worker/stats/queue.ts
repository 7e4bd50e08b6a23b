import { deferredBatch, type WaitUntil } from '../deferred-batch.ts';
import { afterResponse } from '../rollout/shadow.ts';
import type { PredictionRecord } from './record.ts';

/** How long outcomes wait to be written together; a device waits for none of it. */
const FLUSH_AFTER_MS = 100;

const queue = deferredBatch(FLUSH_AFTER_MS, async (env: Env, items: { records: PredictionRecord[]; shadow: string | null }[]) => {
  const byShadow = new Map<string | null, PredictionRecord[]>();
  for (const { records, shadow } of items) {
    const list = byShadow.get(shadow) ?? [];
    list.push(...records);
    byShadow.set(shadow, list);
  }
  for (const [shadow, records] of byShadow) await afterResponse(env, records, shadow);
});

/**
 * Stores a request's outcomes (and runs its shadow version) after the response, in one D1
 * batch with those of the requests that finish around the same time (see `deferredBatch`).
 *
 * @example
 * recordAfterResponse(c.executionCtx, c.env, records, served.shadow);
 */
export function recordAfterResponse(ctx: WaitUntil, env: Env, records: PredictionRecord[], shadow: string | null): void {
  queue(ctx, env, { records, shadow });
}

/**
 * Waits for the outcomes this isolate has answered but not yet written, so statistics and
 * feedback read right after a classify (the console, a device confirming a label) include it.
 * Another isolate's answers are in D1 within FLUSH_AFTER_MS.
 *
 * @example
 * await recordedSoFar(c.env);
 */
export function recordedSoFar(env: Env): Promise<void> {
  return queue.settled(env);
}
