import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';

type Document = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
type Operation = { responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: unknown }> };

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, schema: schema as { type: 'string' | 'integer' } });

/** Headers the middleware of app.ts sets, for every route they wrap. */
const HEADERS = {
  'X-Request-Id': header('identifies this request in the Worker\'s log lines; a caller\'s own `X-Request-Id` (8-128 letters, digits and `._:-`) is kept, otherwise a new UUID'),
  'Server-Timing': header('the Worker\'s own time, refusals included: `decode`, `preprocess`, `infer` and `total` (from before the token check to the JSON), in ms', { type: 'string', example: 'decode;dur=1.0,preprocess;dur=0.0,infer;dur=2.0,total;dur=3.6;desc="in the Worker"' }),
  'Retry-After': header('seconds until the rate-limit window ends', { type: 'integer', minimum: 1 }),
  'WWW-Authenticate': header('RFC 6750 challenge: `Bearer realm="cellsense"`, with `error="invalid_token"` when a bearer token was sent but is unknown or revoked', { type: 'string', example: 'Bearer realm="cellsense", error="invalid_token"' }),
};
const ref = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });
// The routes register the Error schema (schemas.ts) under this name.
const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/** Answers every `/v1` route may give besides its own, as app.ts's middleware gives them. */
const V1_RESPONSES = {
  429: { description: '`rate_limited`: over the token\'s requests per window (RATE_LIMIT_* vars); not counted', headers: { 'Retry-After': ref('Retry-After') }, content: errorContent },
  500: { description: '`internal_error`: an unexpected failure, logged with the request id', content: errorContent },
};

/** The document's top: where it was fetched from is the server it describes. */
export function documentConfig(c: Context) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'cellsense',
      version: '1',
      description: 'Classifies white-blood-cell photos from lab devices at the edge',
      license: { name: 'Proprietary: all rights reserved', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: new URL(c.req.url).origin, description: 'this Worker' }],
    security: [{ bearer: [] }],
  };
}

/**
 * Adds to the generated document what the middleware in app.ts does for every route: the request
 * id on every response, `Server-Timing` on classify's, and on `/v1` routes the 401 challenge, the
 * rate limit's 429 and the 500 of an unexpected error.
 */
export function withMiddlewareResponses(document: Document): Document {
  document.components = { ...document.components, headers: HEADERS };
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const operation of Object.values(item as Record<string, Operation>)) {
      if (path.startsWith('/v1/')) operation.responses = { ...structuredClone(V1_RESPONSES), ...operation.responses };
      for (const [status, response] of Object.entries(operation.responses)) {
        response.headers = {
          'X-Request-Id': ref('X-Request-Id'),
          ...(path.startsWith('/v1/classify') ? { 'Server-Timing': ref('Server-Timing') } : {}),
          ...(status === '401' ? { 'WWW-Authenticate': ref('WWW-Authenticate') } : {}),
          ...response.headers,
        };
      }
    }
  }
  return document;
}
