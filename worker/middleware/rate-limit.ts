import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../auth.ts';
import { errorBody } from '../errors.ts';

/** Routes that need an admin token: counted in their own bucket, against their own limit. */
const ADMIN_ROUTE = /^\/v1\/(devices|routing|stats)(\/|$)|^\/v1\/models\/[^/]+\/report$/;

export interface RateLimitOptions {
  /** Requests a device token may make to device routes per window. */
  deviceLimit: number;
  /** Requests a token may make to admin routes per window. */
  adminLimit: number;
  windowSeconds: number;
}

const DEFAULTS: RateLimitOptions = { deviceLimit: 120, adminLimit: 6000, windowSeconds: 60 };

function positive(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The limits from wrangler.toml vars; a missing or malformed value keeps its default. */
export function rateLimitOptions(env: Env): RateLimitOptions {
  return {
    deviceLimit: positive(env.RATE_LIMIT_DEVICE_REQUESTS, DEFAULTS.deviceLimit),
    adminLimit: positive(env.RATE_LIMIT_ADMIN_REQUESTS, DEFAULTS.adminLimit),
    windowSeconds: positive(env.RATE_LIMIT_WINDOW_SECONDS, DEFAULTS.windowSeconds),
  };
}

// One atomic statement per request: D1 serialises writes, so concurrent requests from the same
// token in any isolate count exactly (a Workers rate-limiting binding is approximate and per-colo).
const COUNT = `INSERT INTO rate_limits (bucket, window_start, count) VALUES (?1, ?2, 1)
  ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1 RETURNING count`;

/**
 * After auth on every `/v1` route: a fixed-window counter per token (per device name, which has one
 * active token) and route kind; over the limit is 429 with Retry-After until the window ends.
 */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const device = c.get('device');
  const admin = ADMIN_ROUTE.test(new URL(c.req.url).pathname);
  const { deviceLimit, adminLimit, windowSeconds } = rateLimitOptions(c.env);
  const limit = admin ? adminLimit : deviceLimit;
  const bucket = `${admin ? 'admin' : 'device'}:${device.name}`;
  const now = Date.now() / 1000;
  const windowStart = Math.floor(now / windowSeconds) * windowSeconds;
  let count: number;
  try {
    count = (await c.env.DB.prepare(COUNT).bind(bucket, windowStart).first<number>('count')) ?? 0;
  } catch (error) {
    // The token was just checked in the same database; if counting fails, serving the lab wins.
    console.error('rate limit counter failed; request let through', error);
    return next();
  }
  if (count === 1) {
    c.executionCtx.waitUntil(c.env.DB.prepare('DELETE FROM rate_limits WHERE bucket = ?1 AND window_start < ?2').bind(bucket, windowStart).run());
  }
  if (count > limit) {
    const retryAfter = Math.max(1, Math.ceil(windowStart + windowSeconds - now));
    const kind = admin ? 'admin routes' : 'requests';
    return c.json(errorBody('rate_limited', `over ${limit} ${kind} per ${windowSeconds} s for this token; retry after ${retryAfter} s`), 429, {
      'retry-after': String(retryAfter),
    });
  }
  await next();
});
