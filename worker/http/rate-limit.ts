import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './auth.ts';
import { deferredBatch } from '../deferred-batch.ts';
import { HttpError } from '../errors.ts';

/** Routes that need an admin token: counted in their own bucket, against their own limit. */
const ADMIN_ROUTE = /^\/v1\/(devices|routing|stats)(\/|$)|^\/v1\/models\/[^/]+\/report$/;

interface RateLimitOptions {
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
function rateLimitOptions(env: Env): RateLimitOptions {
  return {
    deviceLimit: positive(env.RATE_LIMIT_DEVICE_REQUESTS, DEFAULTS.deviceLimit),
    adminLimit: positive(env.RATE_LIMIT_ADMIN_REQUESTS, DEFAULTS.adminLimit),
    windowSeconds: positive(env.RATE_LIMIT_WINDOW_SECONDS, DEFAULTS.windowSeconds),
  };
}

// Atomic upserts: D1 serialises writes, so every request from a token in any isolate is counted
// (a Workers rate-limiting binding is approximate and per-colo).
const COUNT = `INSERT INTO rate_limits (bucket, window_start, count) VALUES (?1, ?2, ?3)
  ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + ?3 RETURNING count`;
// Run when a count comes back equal to what was just added: the window is new, so older ones of
// the bucket are done with.
const prune = (db: D1Database, bucket: string, windowStart: number) =>
  db.prepare('DELETE FROM rate_limits WHERE bucket = ?1 AND window_start < ?2').bind(bucket, windowStart);
/** How long an isolate gathers increments before it sends them (one D1 batch per burst). */
const FLUSH_AFTER_MS = 100;

/** What this isolate knows of one token's current window. */
interface WindowState {
  bucket: string;
  windowStart: number;
  /** The highest count D1 has returned for the window (every isolate's requests). */
  known: number;
  /** This isolate's increments not yet answered by D1. */
  pending: number;
}

// Keyed by bucket (the device name) and window, not by token: a token rotated in the middle of a
// window goes on from this isolate's count, increments not yet in D1 included.
const windows = new Map<string, WindowState>();
const MAX_WINDOWS = 10_000;

/** Sends the increments gathered per window, learns the totals, and prunes past windows. */
const countLater = deferredBatch(FLUSH_AFTER_MS, async (db: D1Database, items: { state: WindowState; amount: number }[]) => {
  const increments = new Map<WindowState, number>();
  for (const { state, amount } of items) increments.set(state, (increments.get(state) ?? 0) + amount);
  const sent = [...increments];
  try {
    const results = await db.batch<{ count: number }>(sent.map(([s, n]) => db.prepare(COUNT).bind(s.bucket, s.windowStart, n)));
    const fresh = sent.filter(([state, n], i) => {
      const counted = results[i].results[0]?.count ?? 0;
      state.known = Math.max(state.known, counted);
      return counted === n;
    });
    if (fresh.length) await db.batch(fresh.map(([s]) => prune(db, s.bucket, s.windowStart)));
  } catch (error) {
    console.error('rate limit counter failed; the requests were let through', error);
  } finally {
    for (const [state, n] of sent) state.pending -= n;
  }
});

/**
 * Counts `amount` requests of the token against its limit (fixed window, per device name, which
 * has one active token, and route kind), or throws 429 with Retry-After until the window ends;
 * `batch`, the size of the batch they belong to, for the message.
 *
 * The first request of a window in an isolate waits for D1's count. Later ones decide on what the
 * isolate knows (D1's last answer plus its own increments not yet answered, exact for one isolate)
 * and their increments go to D1 after the response, gathered per burst: a D1 round trip on every
 * request cost more than the rest of the route. Other isolates' requests show up in D1's next
 * answer. A refused request is not counted.
 */
async function consume(c: Context<AppEnv>, amount: number, batch?: number): Promise<void> {
  const device = c.get('device');
  const admin = ADMIN_ROUTE.test(c.req.path);
  const { deviceLimit, adminLimit, windowSeconds } = rateLimitOptions(c.env);
  const limit = admin ? adminLimit : deviceLimit;
  // Lower case: a device is one name whatever its case, and so is its count.
  const bucket = `${admin ? 'admin' : 'device'}:${device.name.toLowerCase()}`;
  const now = Date.now() / 1000;
  const windowStart = Math.floor(now / windowSeconds) * windowSeconds;
  const key = `${bucket} ${windowStart} ${windowSeconds}`;
  const refuse = () => {
    const retryAfter = Math.max(1, Math.ceil(windowStart + windowSeconds - now));
    const kind = admin ? 'admin routes' : 'requests';
    const size = batch && batch > limit ? `; a batch of ${batch} images never fits, send smaller ones` : '';
    return new HttpError('rate_limited', `over ${limit} ${kind} per ${windowSeconds} s for this token; retry after ${retryAfter} s${size}`, retryAfter);
  };

  const state = windows.get(key);
  if (state) {
    if (state.known + state.pending + amount > limit) throw refuse();
    state.pending += amount;
    countLater(c.executionCtx, c.env.DB, { state, amount });
    return;
  }
  let counted: number;
  try {
    counted = (await c.env.DB.prepare(COUNT).bind(bucket, windowStart, amount).first<number>('count')) ?? 0;
  } catch (error) {
    // The token was just checked in the same database; if counting fails, serving the lab wins.
    console.error('rate limit counter failed; request let through', error);
    return;
  }
  const known = windows.get(key);
  if (known) known.known = Math.max(known.known, counted);
  else {
    if (windows.size >= MAX_WINDOWS) windows.delete(windows.keys().next().value!);
    windows.set(key, { bucket, windowStart, known: counted, pending: 0 });
  }
  if (counted === amount) c.executionCtx.waitUntil(prune(c.env.DB, bucket, windowStart).run());
  if (counted > limit) throw refuse();
}

/** After auth on every `/v1` route: one request counted against the token's limit. */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  await consume(c, 1);
  await next();
});

/**
 * A batch counts as one request per image: the parts beyond the one the middleware counted, once
 * the route knows how many there are, before any is decoded.
 *
 * @example
 * await countBatchParts(c, parts.length);
 */
export async function countBatchParts(c: Context<AppEnv>, parts: number): Promise<void> {
  if (parts > 1) await consume(c, parts - 1, parts);
}
