import { AsyncLocalStorage } from 'node:async_hooks';
import { createMiddleware } from 'hono/factory';
import { editHeaders } from './headers.ts';

// A caller's own id is kept (a device can then find its request in our logs) only when it is
// short and plain, so it cannot inject text into log lines or headers.
const CALLER_ID = /^[A-Za-z0-9._:-]{8,128}$/;

// Follows the request into everything it starts, waitUntil work included (statistics, shadow
// runs), so their log lines carry the id too. Needs only the `nodejs_als` flag, not nodejs_compat.
const current = new AsyncLocalStorage<string>();

const LEVELS = ['log', 'info', 'warn', 'error', 'debug'] as const;
let tagged = false;

/** Prefixes every console line written while a request is handled with `[request <id>]`. */
function tagConsoleLines(): void {
  if (tagged) return;
  tagged = true;
  for (const level of LEVELS) {
    const write = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      const id = current.getStore();
      return id ? write(`[request ${id}]`, ...args) : write(...args);
    };
  }
}

/** Gives every request an id, answered in `X-Request-Id` and written in each of its log lines. */
export const requestId = createMiddleware(async (c, next) => {
  tagConsoleLines();
  const offered = c.req.header('x-request-id');
  const id = offered && CALLER_ID.test(offered) ? offered : crypto.randomUUID();
  await current.run(id, next);
  editHeaders(c, (headers) => headers.set('x-request-id', id));
});
