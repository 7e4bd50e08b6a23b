import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { requireAdmin, type AppEnv } from '../auth.ts';
import { HttpError, quoted } from '../../errors.ts';
import { recordFeedback } from '../../stats/feedback.ts';
import { recordedSoFar } from '../../after-response.ts';
import { FeedbackResultSchema, FeedbackSchema, StatsQuerySchema, StatsSchema } from '../../rollout/schemas.ts';
import { errorResponses } from '../schemas.ts';
import { versionStats } from '../../stats/query.ts';
import { driftStats } from '../../stats/drift-query.ts';
import { driftAlertSettings } from '../../stats/drift-settings.ts';

const statsRoute = createRoute({
  method: 'get',
  path: '/v1/stats',
  operationId: 'getStats',
  summary: 'Per-version statistics of live traffic, shadow runs and feedback, and drift per device (admin)',
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  request: { query: StatsQuerySchema },
  responses: { 200: { description: 'one entry per version', content: { 'application/json': { schema: StatsSchema } } }, ...errorResponses(400, 401, 403) },
});

const feedbackRoute = createRoute({
  method: 'post',
  path: '/v1/feedback',
  operationId: 'recordFeedback',
  summary: 'Confirm the true class of an earlier prediction (once per prediction)',
  security: [{ bearer: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: FeedbackSchema } } } },
  responses: {
    201: { description: 'stored', content: { 'application/json': { schema: FeedbackResultSchema } } },
    200: { description: 'the same label was already stored; nothing changed', content: { 'application/json': { schema: FeedbackResultSchema } } },
    ...errorResponses(400, 401, 403, 404, 409, 415, 422),
  },
});

export const statsRoutes = new OpenAPIHono<AppEnv>()
  .openapi(statsRoute, async (c) => {
    const { since, driftLevel, driftWindow, driftMinAnswers, driftBucket } = c.req.valid('query');
    const time = since === undefined ? null : new Date(since);
    if (time && Number.isNaN(time.getTime())) {
      throw new HttpError('invalid_since', `since ${quoted(since!)} is not an ISO 8601 time; use e.g. 2026-05-01T00:00:00Z`);
    }
    const from = time ? time.toISOString() : null;
    const alert = driftAlertSettings(c.env, { level: driftLevel, windowSeconds: driftWindow, minAnswers: driftMinAnswers });
    await recordedSoFar(c.env);
    const now = Date.now();
    const [versions, drift] = await Promise.all([versionStats(c.env.DB, from ?? ''), driftStats(c.env.DB, from ?? '', alert, driftBucket, now)]);
    return c.json({ since: from, generatedAt: new Date(now).toISOString(), versions, drift }, 200);
  })
  .openapi(feedbackRoute, async (c) => {
    const { id, label } = c.req.valid('json');
    await recordedSoFar(c.env);
    const { created, result } = await recordFeedback(c.env.DB, c.get('device'), id, label);
    return c.json(result, created ? 201 : 200);
  });
