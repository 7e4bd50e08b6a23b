import type { Context } from 'hono';

/**
 * Changes the response's headers. A response passed through from a binding (ASSETS, R2) may have
 * immutable headers, which refuse the first change: it is then copied and `edit` runs on the copy.
 */
export function editHeaders(c: Context, edit: (headers: Headers) => void): void {
  try {
    edit(c.res.headers);
  } catch {
    c.res = new Response(c.res.body, c.res);
    edit(c.res.headers);
  }
}
