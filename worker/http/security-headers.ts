import { createMiddleware } from 'hono/factory';
import { editHeaders } from './headers.ts';

/**
 * For everything that sets no policy of its own (JSON, 204s, errors): nothing may load, frame or
 * be submitted from a response of this API. Pages that need more (/console/, training reports)
 * set their own Content-Security-Policy, which is left as it is.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const ALWAYS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Security headers on every response; a route's own values win. */
export const securityHeaders = createMiddleware(async (c, next) => {
  await next();
  editHeaders(c, (headers) => {
    for (const [name, value] of Object.entries(ALWAYS)) if (!headers.has(name)) headers.set(name, value);
    if (!headers.has('content-security-policy')) headers.set('content-security-policy', API_CSP);
    // API answers (classifications, device tokens, statistics) are never for shared caches.
    if (!headers.has('cache-control') && /^application\/json/.test(headers.get('content-type') ?? '')) headers.set('cache-control', 'no-store');
  });
});
