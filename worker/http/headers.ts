import type { Context } from 'hono';

/**
 * The response's headers, ready to change: a response passed through from a binding (ASSETS, R2)
 * may have immutable headers, so it is copied first.
 */
export function mutableHeaders(c: Context): Headers {
  try {
    c.res.headers.set('x-probe', '');
    c.res.headers.delete('x-probe');
  } catch {
    c.res = new Response(c.res.body, c.res);
  }
  return c.res.headers;
}
