import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { timing } from 'hono/timing';
import { requireToken, type AppEnv } from './http/auth.ts';
import { consoleRoutes } from './console/route.ts';
import { bearerChallenge, errorBody, HttpError } from './errors.ts';
import { corsFromConfig } from './http/cors.ts';
import { rateLimit } from './http/rate-limit.ts';
import { requestId } from './http/request-id.ts';
import { securityHeaders } from './http/security-headers.ts';
import { documentConfig, withMiddlewareResponses } from './openapi.ts';
import { classifyRoutes } from './http/routes/classify.ts';
import { deviceListRoutes } from './http/routes/device-list.ts';
import { deviceRoutes } from './http/routes/devices.ts';
import { healthRoutes } from './http/routes/health.ts';
import { modelReportRoutes } from './http/routes/model-report.ts';
import { modelRoutes } from './http/routes/models.ts';
import { routingRoutes } from './http/routes/routing.ts';
import { statsRoutes } from './http/routes/stats.ts';

/**
 * The Worker's Hono app: auth as middleware, the routes, the OpenAPI 3.1 document generated
 * from the route schemas, and the one error handler.
 */
export function buildApp() {
  const app = new OpenAPIHono<AppEnv>({
    // Schema failures (query, params, JSON) become the same error envelope as everything else.
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
        throw new HttpError('invalid_request', issues);
      }
    },
  });

  // Outermost, so errors, 404s and refusals carry the request id and the headers too.
  app.use('*', requestId, securityHeaders, corsFromConfig);
  // Before auth, so `total` is the Worker's whole share of a classify: a device (or the bench) can
  // tell it from the network's.
  app.use('/v1/classify/*', timing({ totalDescription: 'in the Worker' }));
  app.use('/v1/*', requireToken, rateLimit);
  app.route('/', healthRoutes);
  app.route('/', classifyRoutes);
  app.route('/', modelRoutes);
  app.route('/', deviceRoutes);
  app.route('/', routingRoutes);
  app.route('/', statsRoutes);
  // The lab console's pages and the two admin routes only it needs.
  app.route('/', modelReportRoutes);
  app.route('/', deviceListRoutes);
  app.route('/', consoleRoutes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'a device token from `npm run token` or POST /v1/devices',
  });
  app.get('/openapi.json', (c) => c.json(withMiddlewareResponses(app.getOpenAPI31Document(documentConfig(c)))));

  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`), 404));

  app.onError((error, c) => {
    if (error instanceof HttpError && error.retryAfter !== undefined) c.header('retry-after', String(error.retryAfter));
    if (error instanceof HttpError) {
      const challenge = error.status === 401 ? { 'www-authenticate': bearerChallenge(c.req.header('authorization')) } : undefined;
      return c.json(errorBody(error.code, error.message), error.status, challenge);
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = status === 415 ? 'unsupported_media_type' : status === 400 ? 'invalid_request' : `http_${status}`;
      return c.json(errorBody(code, error.message || 'request refused'), status);
    }
    if (error instanceof SyntaxError) return c.json(errorBody('invalid_json', `the body is not valid JSON: ${error.message}`), 400);
    console.error('unhandled error', error);
    return c.json(errorBody('internal_error', 'internal error; the request was logged'), 500);
  });
  return app;
}
