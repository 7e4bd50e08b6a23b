import { quoted } from '../errors.ts';

/** What one pruning run removed, and up to when. */
interface PruneResult {
  /** Outcomes created before this instant (ISO 8601) were due. */
  cutoff: string;
  predictions: number;
  shadowResults: number;
  feedback: number;
  /** False when the run stopped at `maxChunks` with due rows left; the next run goes on. */
  complete: boolean;
}

interface PruneOptions {
  /** Predictions removed per D1 batch (with their shadow results and feedback). Default 2,000. */
  chunk?: number;
  /** Batches per run, so one run stays well inside a scheduled handler's limits. Default 100. */
  maxChunks?: number;
}

/** `OUTCOME_RETENTION_DAYS` is set but is not a whole number of days of at least 1. */
class RetentionConfigError extends Error {
  override name = 'RetentionConfigError';
}

const MAX_DAYS = 36_500;

/**
 * The retention from `OUTCOME_RETENTION_DAYS`: null (keep everything) when unset or empty, since
 * a lab's record-keeping rules, not ours, decide when clinical results may go.
 *
 * @example
 * retentionDays({ OUTCOME_RETENTION_DAYS: '365' }); // 365
 */
export function retentionDays(env: Pick<Env, 'OUTCOME_RETENTION_DAYS'>): number | null {
  const value = (env.OUTCOME_RETENTION_DAYS ?? '').trim();
  if (!value) return null;
  const days = Number(value);
  if (!/^\d+$/.test(value) || days < 1 || days > MAX_DAYS) {
    throw new RetentionConfigError(
      `OUTCOME_RETENTION_DAYS is ${quoted(value, 40)}; set it to a whole number of days from 1 to ${MAX_DAYS} in wrangler.toml [vars], or leave it empty to keep every outcome`,
    );
  }
  return days;
}

// Each statement picks the same oldest `chunk` due predictions, so the three stay in step; a
// D1 batch is one transaction, so a prediction never outlives its feedback or the reverse.
const DUE = 'SELECT id FROM predictions WHERE created_at < ?1 ORDER BY created_at LIMIT ?2';

/**
 * Deletes the outcomes (predictions, with their shadow results and feedback) created more than
 * `days` before `now`, oldest first, in batches. Statistics read from the same tables, so they
 * then cover the retention window only.
 *
 * @example
 * const removed = await pruneOutcomes(env.DB, Date.now(), 365);
 */
export async function pruneOutcomes(db: D1Database, now: number, days: number, options: PruneOptions = {}): Promise<PruneResult> {
  const chunk = options.chunk ?? 2_000;
  const maxChunks = options.maxChunks ?? 100;
  const cutoff = new Date(now - days * 86_400_000).toISOString();
  const result: PruneResult = { cutoff, predictions: 0, shadowResults: 0, feedback: 0, complete: false };
  for (let i = 0; i < maxChunks; i++) {
    const [feedback, shadow, predictions] = await db.batch([
      db.prepare(`DELETE FROM feedback WHERE prediction_id IN (${DUE})`).bind(cutoff, chunk),
      db.prepare(`DELETE FROM shadow_results WHERE prediction_id IN (${DUE})`).bind(cutoff, chunk),
      db.prepare(`DELETE FROM predictions WHERE id IN (${DUE})`).bind(cutoff, chunk),
    ]);
    result.feedback += feedback.meta.changes;
    result.shadowResults += shadow.meta.changes;
    result.predictions += predictions.meta.changes;
    if (predictions.meta.changes < chunk) {
      result.complete = true;
      break;
    }
  }
  return result;
}

/**
 * The scheduled (cron) run: prunes when a retention is set, and logs what it did. A malformed
 * setting deletes nothing and says what to fix.
 *
 * @example
 * export default { fetch: app.fetch, scheduled: (controller, env) => pruneOnSchedule(env, controller.scheduledTime) };
 */
export async function pruneOnSchedule(env: Env, scheduledTime: number, options?: PruneOptions): Promise<PruneResult | null> {
  let days;
  try {
    days = retentionDays(env);
  } catch (error) {
    if (!(error instanceof RetentionConfigError)) throw error;
    console.error(`outcome retention: ${error.message}; nothing was deleted`);
    return null;
  }
  if (days === null) return null;
  const removed = await pruneOutcomes(env.DB, scheduledTime, days, options);
  console.info(
    `outcome retention (${days} days), created before ${removed.cutoff}: removed predictions ${removed.predictions}, shadow results ${removed.shadowResults}, feedback ${removed.feedback}${removed.complete ? '' : '; more are due and go in the next run'}`,
  );
  return removed;
}
