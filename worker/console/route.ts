import { Hono } from 'hono';
import type { AppEnv } from '../http/auth.ts';
import { HttpError } from '../errors.ts';

// Shared by every console document: scripts only from this origin, no inline script, no
// eval, no framing, no plugins; Trusted Types forbids string-to-HTML sinks (the page builds
// its DOM with textContent). Forms only ever submit through fetch, so `form-action 'none'`
// guarantees a failed script can never turn the token form into a GET with the token in the URL.
const BASE_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
];

/** The console: its own stylesheet, and image previews of the files being classified (blob:). */
export const CONSOLE_CSP = [...BASE_POLICY, "style-src 'self'", "img-src 'self' blob:"].join('; ');

/**
 * The report viewer (report.html) fetches a training report with the admin token and shows it as
 * a blob: document, which inherits this policy: the report is self-contained, with an inline
 * <style> and data: images, and no script. Only this page allows inline style.
 */
export const REPORT_VIEWER_CSP = [...BASE_POLICY, "style-src 'self' 'unsafe-inline'", "img-src 'self' data:"].join('; ');

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Revalidated on every load (the asset server answers 304 by ETag), so a deploy shows at once.
  'cache-control': 'no-cache',
};

/**
 * /console/*: the lab console's static files (wrangler `[assets]`, worker/console/public),
 * served through the Worker so each carries the security headers above.
 */
export const consoleRoutes = new Hono<AppEnv>()
  .get('/console', (c) => c.redirect('/console/', 308))
  .on(['GET', 'HEAD'], '/console/*', async (c) => {
    const path = new URL(c.req.url).pathname;
    const asset = await c.env.ASSETS.fetch(c.req.raw);
    if (asset.status === 404) throw new HttpError('not_found', `the console has no file ${path}`);
    const response = new Response(asset.body, asset);
    // The asset server serves report.html as /console/report (it redirects the .html form there).
    response.headers.set('content-security-policy', /^\/console\/report(\.html)?$/.test(path) ? REPORT_VIEWER_CSP : CONSOLE_CSP);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
    return response;
  });
