import { createMiddleware } from 'hono/factory';
import { cors } from 'hono/cors';
import type { MiddlewareHandler } from 'hono';

/** Origins allowed by `CORS_ORIGINS` (comma or space separated, exact `scheme://host[:port]`). */
function corsOrigins(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((origin) => /^https?:\/\/[^/\s]+$/.test(origin));
}

let cached: { value: string; handler: MiddlewareHandler } | null = null;

/**
 * Closed by default: without `CORS_ORIGINS` no response carries Access-Control-* headers, so a
 * browser page on another origin cannot read any answer. The lab console is same-origin and needs none.
 */
export const corsFromConfig = createMiddleware<{ Bindings: Env }>(async (c, next) => {
  const value = c.env.CORS_ORIGINS ?? '';
  const origins = corsOrigins(value);
  if (!origins.length) return next();
  if (cached?.value !== value) {
    cached = {
      value,
      handler: cors({
        origin: origins,
        allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
        allowHeaders: ['authorization', 'content-type', 'x-model-version', 'x-request-id'],
        exposeHeaders: ['x-request-id', 'x-model-version', 'retry-after', 'server-timing'],
        maxAge: 600,
      }),
    };
  }
  return cached.handler(c, next);
});
