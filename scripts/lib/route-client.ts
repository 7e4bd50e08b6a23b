import { userInfo } from 'node:os';
import type { RoutingChange, RoutingConfig, RoutingResult } from '../../worker/rollout/routing-store.ts';

/** What the route command can do, wherever the routing lives. */
export interface RoutingClient {
  show(): Promise<{ routing: RoutingConfig | null; history: RoutingConfig[] }>;
  set(change: RoutingChange): Promise<RoutingResult>;
  rollback(): Promise<RoutingResult>;
}

/** A refusal from the Worker or the routing store, with its HTTP status and code. */
export class RouteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The admin API of a running Worker (`wrangler dev` or deployed). */
export function httpClient(url: string, token: string): RoutingClient {
  const base = url.replace(/\/+$/, '');
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new RouteError(0, 'unreachable', `cannot reach ${base}: ${(error as Error).message}; is the Worker running (npm run dev)?`);
    }
    const json = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    if (!res.ok) throw new RouteError(res.status, json?.error?.code ?? `http_${res.status}`, json?.error?.message ?? `${method} ${path} answered ${res.status}`);
    return json as T;
  };
  return {
    show: () => request('GET', '/v1/routing'),
    set: (change) => request('PUT', '/v1/routing', change),
    rollback: () => request('POST', '/v1/routing/rollback'),
  };
}

/**
 * The local D1 database and R2 bucket that `wrangler dev` serves, written directly with the
 * Worker's own routing code (so the same checks apply). A running `wrangler dev` picks the
 * change up within ROUTING_CACHE_SECONDS.
 */
export function localClient(persistTo?: string): RoutingClient {
  const who = `local:${userInfo().username}`;
  const run = async <T>(fn: (store: typeof import('../../worker/rollout/routing-store.ts'), env: import('./local-bindings.ts').LocalBindings) => Promise<T>): Promise<T> => {
    const [{ withLocalBindings }, store, { HttpError }] = await Promise.all([import('./local-bindings.ts'), import('../../worker/rollout/routing-store.ts'), import('../../worker/errors.ts')]);
    try {
      return await withLocalBindings((env) => fn(store, env), persistTo);
    } catch (error) {
      if (error instanceof HttpError) throw new RouteError(error.status, error.code, error.message);
      throw error;
    }
  };
  return {
    show: () => run(async (store, env) => ({ routing: await store.currentRouting(env.DB), history: await store.routingHistory(env.DB) })),
    set: (change) => run((store, env) => store.setRouting(env.DB, env.MODELS, change, who)),
    rollback: () => run((store, env) => store.rollbackRouting(env.DB, env.MODELS, who)),
  };
}

/**
 * `v1=90,v2=10` as a split; a malformed list is refused with what was wrong.
 *
 * @example
 * parseSplit('v1=90,v2=10'); // { v1: 90, v2: 10 }
 */
export function parseSplit(text: string): Record<string, number> {
  const split: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([^=\s]+)=(-?\d+(?:\.\d+)?)$/.exec(part);
    if (!match) throw new Error(`--set: "${part}" is not VERSION=PERCENT; write e.g. --set v1=90,v2=10`);
    if (match[1] in split) throw new Error(`--set: version "${match[1]}" is given twice`);
    split[match[1]] = Number(match[2]);
  }
  if (!Object.keys(split).length) throw new Error('--set: give at least one VERSION=PERCENT, e.g. --set v1=90,v2=10');
  return split;
}

/** One configuration on one line. */
export function describeRouting(config: RoutingConfig): string {
  const split = Object.entries(config.split).map(([v, w]) => `${v} ${w}%`).join(', ');
  const shadow = config.shadow ? `; shadow ${config.shadow}` : '; no shadow';
  const sticky = config.sticky ? `sticky per device (salt ${config.salt})` : 'drawn per request';
  return `#${config.id} ${split}${shadow}; ${sticky} (${config.action} by ${config.changedBy} at ${config.changedAt})`;
}
