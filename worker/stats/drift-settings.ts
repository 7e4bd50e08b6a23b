import { HttpError } from '../errors.ts';

/** When a device's answers count as drifting: more than `level` of them out of domain over the last `windowSeconds`. */
export interface DriftAlertSettings {
  /** Share of answers flagged `out_of_domain` an alert must pass (0 to 1; 1 never alerts). */
  level: number;
  windowSeconds: number;
  /** Fewer answers than this in the window raise no alert: one blank slide is not a drifting camera. */
  minAnswers: number;
}

/** Bounds shared by the wrangler.toml vars and the query parameters that override them. */
export const DRIFT_LIMITS = {
  level: { min: 0, max: 1, integer: false },
  windowSeconds: { min: 60, max: 30 * 86_400, integer: true },
  minAnswers: { min: 1, max: 1_000_000, integer: true },
  bucketSeconds: { min: 60, max: 30 * 86_400, integer: true },
} as const;

type Limits = (typeof DRIFT_LIMITS)[keyof typeof DRIFT_LIMITS];

export const DRIFT_DEFAULTS: DriftAlertSettings = { level: 0.2, windowSeconds: 6 * 3600, minAnswers: 10 };

/** A series longer than this is refused: the response would grow with no gain to a chart. */
export const MAX_BUCKETS = 1000;

// Bucket sizes offered by default, aligned to the Unix epoch (so days start at 00:00 UTC).
const BUCKET_CHOICES = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86_400, 7 * 86_400];
const DEFAULT_BUCKETS = 48;

function numberVar(value: string | undefined, fallback: number, { min, max, integer }: Limits): number {
  const n = Number(value);
  const usable = value !== undefined && value.trim() !== '' && n >= min && n <= max && (!integer || Number.isInteger(n));
  return usable ? n : fallback;
}

/**
 * The alert settings from wrangler.toml vars (DRIFT_ALERT_LEVEL, DRIFT_ALERT_WINDOW_SECONDS,
 * DRIFT_ALERT_MIN_ANSWERS), each overridden by its query parameter when one is given. A missing or
 * malformed var keeps its default, as the rate limits do; /v1/stats reports the values in force.
 *
 * @example
 * driftAlertSettings(env, { level: 0.5 }); // { level: 0.5, windowSeconds: 21600, minAnswers: 10 }
 */
export function driftAlertSettings(env: Partial<Env>, query: Partial<DriftAlertSettings> = {}): DriftAlertSettings {
  return {
    level: query.level ?? numberVar(env.DRIFT_ALERT_LEVEL, DRIFT_DEFAULTS.level, DRIFT_LIMITS.level),
    windowSeconds: query.windowSeconds ?? numberVar(env.DRIFT_ALERT_WINDOW_SECONDS, DRIFT_DEFAULTS.windowSeconds, DRIFT_LIMITS.windowSeconds),
    minAnswers: query.minAnswers ?? numberVar(env.DRIFT_ALERT_MIN_ANSWERS, DRIFT_DEFAULTS.minAnswers, DRIFT_LIMITS.minAnswers),
  };
}

/**
 * The width of the drift series' buckets over `spanSeconds` (now minus the start of the range):
 * the one asked for, refused with 400 when it would make more than MAX_BUCKETS of them, or else the
 * smallest of the usual sizes that makes at most 48.
 *
 * @example
 * bucketSeconds(86_400); // 3600
 */
export function bucketSeconds(spanSeconds: number, asked?: number): number {
  if (asked !== undefined) {
    const count = Math.ceil(spanSeconds / asked);
    if (count > MAX_BUCKETS) {
      throw new HttpError(
        'invalid_bucket',
        `driftBucket ${asked} s makes ${count} buckets over the ${Math.ceil(spanSeconds)} s asked for; at most ${MAX_BUCKETS}: use at least ${Math.ceil(spanSeconds / MAX_BUCKETS)} s, or a later since`,
      );
    }
    return asked;
  }
  return BUCKET_CHOICES.find((size) => spanSeconds / size <= DEFAULT_BUCKETS) ?? BUCKET_CHOICES[BUCKET_CHOICES.length - 1];
}
