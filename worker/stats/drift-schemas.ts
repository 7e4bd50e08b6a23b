import { z } from '@hono/zod-openapi';
import { REVIEW_REASONS } from '../../shared/index.ts';
import { DRIFT_DEFAULTS, DRIFT_LIMITS, MAX_BUCKETS } from './drift-settings.ts';

// Schemas of the drift figures in GET /v1/stats: its query parameters and its `drift` section.

const query = (name: string) => ({ param: { name, in: 'query' as const } });
const wholeNumber = ({ min, max }: { min: number; max: number }) => z.coerce.number().int().min(min).max(max).optional();

/** Query parameters that override the drift settings of wrangler.toml for one request. */
export const DriftQueryShape = {
  // A decimal written out (not coerced), so an empty value is refused rather than read as 0.
  driftLevel: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number)
    .pipe(z.number().min(DRIFT_LIMITS.level.min).max(DRIFT_LIMITS.level.max))
    .optional()
    .openapi({ ...query('driftLevel'), description: `alert when more than this share (0 to 1; 1: never) of a device's answers in the window is out of domain (default: DRIFT_ALERT_LEVEL, ${DRIFT_DEFAULTS.level})`, example: '0.2' }),
  driftWindow: wholeNumber(DRIFT_LIMITS.windowSeconds).openapi({ ...query('driftWindow'), description: `seconds back from now that the alert looks at (default: DRIFT_ALERT_WINDOW_SECONDS, ${DRIFT_DEFAULTS.windowSeconds})`, example: 3600 }),
  driftMinAnswers: wholeNumber(DRIFT_LIMITS.minAnswers).openapi({ ...query('driftMinAnswers'), description: `fewest answers in the window that can raise an alert (default: DRIFT_ALERT_MIN_ANSWERS, ${DRIFT_DEFAULTS.minAnswers})`, example: 10 }),
  driftBucket: wholeNumber(DRIFT_LIMITS.bucketSeconds).openapi({ ...query('driftBucket'), description: `width of the series' buckets in seconds, at most ${MAX_BUCKETS} of them over the range (default: from the range, at most 48)`, example: 3600 }),
};

const FiguresShape = {
  answers: z.number().int().openapi({ description: 'answered images recorded with their reasons' }),
  reasons: z
    .object(Object.fromEntries(REVIEW_REASONS.map((reason) => [reason, z.number()])) as Record<(typeof REVIEW_REASONS)[number], z.ZodNumber>)
    .openapi({ description: 'share of the answers flagged for each reason (0 to 1; an answer may have both)' }),
  meanDomainScore: z.number().nullable().openapi({ description: 'mean domainScore of the answers (over 1: out of domain); null for a version without a domain profile' }),
  classes: z.record(z.string(), z.number().int()).openapi({ description: 'answers per top label' }),
};

const DriftBucketSchema = z
  .object({ start: z.string().openapi({ description: 'start of the bucket (ISO 8601)' }), ...FiguresShape })
  .openapi('DriftBucket', { description: "a device's answers from one version in one bucket of time" });

export const DriftSchema = z
  .object({
    bucketSeconds: z.number().int().openapi({ description: 'width of the buckets, aligned to the Unix epoch (a day starts at 00:00 UTC)' }),
    alert: z.object({
      level: z.number().openapi({ description: 'an alert needs more than this share out of domain' }),
      windowSeconds: z.number().int(),
      minAnswers: z.number().int().openapi({ description: 'an alert needs at least this many answers in the window' }),
      windowStart: z.string().openapi({ description: 'the window is from this time (ISO 8601) to generatedAt' }),
    }).openapi({ description: 'the alert rule in force: wrangler.toml vars, or the query parameters that override them' }),
    alerting: z.array(z.string()).openapi({ description: 'devices with at least one version in alert', example: ['lab-2'] }),
    devices: z.array(
      z.object({
        device: z.string(),
        version: z.string(),
        alert: z.boolean().openapi({ description: 'in the window: at least minAnswers answers, and more than level of them out_of_domain' }),
        window: z.object(FiguresShape).nullable().openapi({ description: 'over the alert window, whatever `since`; null with no answer in it' }),
        series: z.array(DriftBucketSchema).openapi({ description: 'buckets with answers since `since`, oldest first' }),
      }).openapi('DeviceDrift'),
    ).openapi({ description: 'per device and version that answered in the range or in the alert window, by device name' }),
  })
  .openapi('Drift', { description: 'per device and version over time: flagged shares, mean domain score and class mix, and the out-of-domain alert' });
