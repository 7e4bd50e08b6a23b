import { z } from '@hono/zod-openapi';
import { DriftQueryShape, DriftSchema } from '../stats/drift-schemas.ts';

// Schemas of the rollout routes: routing, statistics, feedback.

export const RoutingChangeSchema = z
  .object({
    split: z.record(z.string(), z.number()).openapi({ description: 'version -> integer percentage; the weights sum to 100', example: { v1: 90, v2: 10 } }),
    shadow: z.string().nullable().optional().openapi({ description: 'a version run on every request after the response; its answer is only recorded', example: 'v3' }),
    sticky: z.boolean().optional().openapi({ description: 'keep each device on its version (default: as before, initially true)' }),
    salt: z.string().min(1).max(64).optional().openapi({ description: 'salt of the device hash; changing it reshuffles every device (default: kept)' }),
  })
  .openapi('RoutingChange');

const RoutingConfigSchema = z
  .object({
    id: z.number().int(),
    split: z.record(z.string(), z.number().int()),
    shadow: z.string().nullable(),
    sticky: z.boolean(),
    salt: z.string(),
    action: z.enum(['set', 'rollback']),
    previousId: z.number().int().nullable().openapi({ description: 'the configuration a rollback from this one restores' }),
    changedBy: z.string().openapi({ description: 'name of the admin token (or local CLI user) that made the change' }),
    changedAt: z.string(),
  })
  .openapi('RoutingConfig');

export const RoutingStateSchema = z
  .object({
    routing: RoutingConfigSchema.nullable().openapi({ description: 'in force; null: every request goes to the default version' }),
    history: z.array(RoutingConfigSchema).openapi({ description: 'every change, newest first (up to 50)' }),
  })
  .openapi('RoutingState');

export const RoutingResultSchema = z
  .object({ routing: RoutingConfigSchema, previous: RoutingConfigSchema.nullable() })
  .openapi('RoutingResult');

export const StatsQuerySchema = z.object({
  since: z
    .string()
    .optional()
    .openapi({ param: { name: 'since', in: 'query' }, description: 'ISO 8601 time; only predictions made since then count (default: all)', example: '2026-05-01T00:00:00Z' }),
  ...DriftQueryShape,
});

const LatencySchema = z.object({ p50: z.number(), p95: z.number() }).nullable().openapi({ description: 'Worker time per image, ms' });

const EvaluationSchema = z
  .object({
    count: z.number().int(),
    accuracy: z.number(),
    macroF1: z.number().openapi({ description: 'mean F1 over the classes with at least one confirmed label (support > 0); a class no label has confirmed yet does not count' }),
    classes: z.array(z.string()),
    confusion: z.array(z.array(z.number().int())).openapi({ description: 'confusion[i][j]: confirmed class i predicted as j' }),
    perClass: z.record(z.string(), z.object({ precision: z.number(), recall: z.number(), f1: z.number(), support: z.number().int() })),
  })
  .nullable()
  .openapi('LiveEvaluation', { description: 'from confirmed labels (POST /v1/feedback); null without feedback' });

const VersionStatsSchema = z
  .object({
    version: z.string(),
    requests: z.number().int().openapi({ description: 'images routed to this version (batch parts count one each)' }),
    errors: z.number().int(),
    errorsByCode: z.record(z.string(), z.number().int()),
    fallbacks: z.object({
      answeredFor: z.number().int().openapi({ description: 'images this version answered because the one chosen for them could not serve' }),
      sentElsewhere: z.number().int().openapi({ description: 'images chosen for this version that another answered' }),
    }),
    latencyMs: LatencySchema,
    meanTopProbability: z.number().nullable(),
    review: z.number().int().openapi({ description: 'answers flagged for review' }),
    predictedClasses: z.record(z.string(), z.number().int()),
    feedback: EvaluationSchema,
    shadow: z
      .object({
        runs: z.number().int(),
        errors: z.number().int(),
        agreed: z.number().int(),
        agreement: z.number().nullable().openapi({ description: 'share of answered shadow runs whose top label equals the answer given' }),
        latencyMs: LatencySchema,
        meanTopProbability: z.number().nullable(),
        predictedClasses: z.record(z.string(), z.number().int()),
        feedback: EvaluationSchema,
      })
      .nullable()
      .openapi({ description: 'this version run as the shadow; null if it never was' }),
  })
  .openapi('VersionStats');

export const StatsSchema = z
  .object({ since: z.string().nullable(), generatedAt: z.string(), versions: z.array(VersionStatsSchema), drift: DriftSchema })
  .openapi('Stats');

export const FeedbackSchema = z
  .object({
    id: z.string().openapi({ description: 'the `id` of an earlier classification' }),
    label: z.string().openapi({ description: "the true class, one of the model's classes", example: 'NEUTROPHIL' }),
  })
  .openapi('Feedback');

export const FeedbackResultSchema = z
  .object({
    id: z.string(),
    label: z.string(),
    version: z.string(),
    predicted: z.string(),
    correct: z.boolean(),
    recordedAt: z.string(),
  })
  .openapi('FeedbackResult');
