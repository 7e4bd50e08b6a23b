// Deployed to Cloudflare, an isolate's clock stands still while its code runs and moves only across
// I/O (a Spectre mitigation; Cloudflare's docs, "Performance and timers"), so there a zero timer
// between two phases is what lets a phase's duration show in Date.now(). workerd run locally
// (wrangler dev, the tests, the bench) keeps a live clock, and there those timers only add
// latency (about a millisecond at classify p50), so they are skipped.
let live: boolean | undefined;

// Date.now() moves every millisecond on a live clock, so the loop leaves within one; a frozen
// clock runs it out, which costs a few milliseconds once per isolate.
const SPINS = 1_000_000;

/**
 * Whether `now` moves while code runs: spins until it does, at most `spins` reads.
 *
 * @example
 * clockMoves(Date.now); // true in local workerd and Node
 */
export function clockMoves(now: () => number, spins = SPINS): boolean {
  const start = now();
  for (let i = 0; i < spins; i++) if (now() !== start) return true;
  return false;
}

/** Whether this isolate's clock is live, seen once (the isolate warm-up asks first, so no request pays). */
export function liveClock(): boolean {
  live ??= clockMoves(Date.now);
  return live;
}

/**
 * Lets the clock show the work done since the last I/O: nothing to do on a live clock, a zero
 * timer on a frozen one.
 *
 * @example
 * await clockTick();
 * const t0 = Date.now();
 */
export function clockTick(): Promise<void> | undefined {
  return liveClock() ? undefined : new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/**
 * One turn of the isolate's event loop: requests that arrived meanwhile (a /healthz, another
 * device's classify) run now instead of after all of this request's work.
 *
 * @example
 * for (const part of parts) { await nextTurn(); classify(part); }
 */
export const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
