import { deferredBatch, type WaitUntil } from './deferred-batch.ts';
import { runShadow } from './rollout/shadow.ts';
import { recordPredictions, recordShadows, type PredictionRecord } from './stats/record.ts';

/** How long outcomes wait to be written together; a device waits for none of it. */
const FLUSH_AFTER_MS = 100;

/**
 * Everything that happens after the response is sent (under `waitUntil`): the request's
 * outcomes are written to D1, then the shadow version, if one is set and is not the version
 * that answered, runs on the answered images and its results are written too (after the
 * predictions they refer to). Failures are logged, never surfaced to the device.
 */
async function afterResponse(env: Env, records: PredictionRecord[], shadow: string | null): Promise<void> {
  try {
    await recordPredictions(env.DB, records);
    const answered = records.filter((r) => r.classified && r.version !== shadow).map((r) => ({ id: r.id, classified: r.classified! }));
    if (shadow && answered.length) await recordShadows(env.DB, await runShadow(env, shadow, answered));
  } catch (error) {
    console.error('recording statistics failed', error);
  }
}

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
 * Stores a request's outcomes and runs its shadow version after the response, in one D1 batch
 * with those of the requests that finish around the same time (see `deferredBatch`).
 *
 * @example
 * runAfterResponse(c.executionCtx, c.env, records, served.shadow);
 */
export function runAfterResponse(ctx: WaitUntil, env: Env, records: PredictionRecord[], shadow: string | null): void {
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
