import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The Worker inside workerd (Miniflare) with the bindings of wrangler.toml: a real local R2
 * bucket and D1 database (migrations applied by each suite's setup file). Rate limits are lifted:
 * suites send thousands of requests per token; test/worker/http/rate-limit.test.ts sets its own.
 * `bindings` adds or overrides vars for one suite.
 */
export async function workerdPlugin(bindings: Record<string, string> = {}) {
  return cloudflareTest({
    wrangler: { configPath: `${root}wrangler.toml` },
    miniflare: {
      bindings: {
        TEST_MIGRATIONS: await readD1Migrations(`${root}migrations`),
        RATE_LIMIT_DEVICE_REQUESTS: '1000000',
        RATE_LIMIT_ADMIN_REQUESTS: '1000000',
        ...bindings,
      },
    },
  });
}
