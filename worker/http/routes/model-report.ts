import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { REPORT_FILE } from '../../../shared/index.ts';
import { requireAdmin, type AppEnv } from '../auth.ts';
import { HttpError } from '../../errors.ts';
import { resolveVersion } from '../../models/loader.ts';
import { errorResponses, VersionParamSchema } from '../schemas.ts';

// The trainer's report is one self-contained page (inline <style>, data: images, no script).
// `sandbox` gives it an opaque origin even if a report ever carried markup it should not.
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox";

const reportRoute = createRoute({
  method: 'get',
  path: '/v1/models/{version}/report',
  operationId: 'getModelReport',
  summary: "A version's training report (HTML, admin), as the trainer wrote it",
  security: [{ bearer: [] }],
  middleware: [requireAdmin] as const,
  request: { params: VersionParamSchema },
  responses: {
    200: { description: 'the report, self-contained, no script', content: { 'text/html': { schema: { type: 'string' } } } },
    ...errorResponses(401, 403, 404),
  },
});

export const modelReportRoutes = new OpenAPIHono<AppEnv>().openapi(reportRoute, async (c) => {
  const { version } = await resolveVersion(c.env, c.req.valid('param').version);
  const object = await c.env.MODELS.get(`${version}/${REPORT_FILE}`);
  if (!object) throw new HttpError('report_not_found', `model version "${version}" was published without a ${REPORT_FILE}`);
  return c.body(object.body, 200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(object.size),
    'content-security-policy': REPORT_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    // Versions are immutable, but the report is behind a token: private caches only.
    'cache-control': 'private, max-age=3600',
    etag: object.httpEtag,
  });
});
