import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The Worker's tests run inside workerd (Miniflare) with the bindings of wrangler.toml:
// a real local R2 bucket and D1 database, fresh for each test file.
export default defineConfig(async () => ({
  root,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations(`${root}migrations`),
          // Tests send thousands of requests per token; rate-limit.test.ts sets its own limits per call.
          RATE_LIMIT_DEVICE_REQUESTS: '1000000',
          RATE_LIMIT_ADMIN_REQUESTS: '1000000',
        },
      },
    }),
  ],
  test: {
    name: 'worker',
    root,
    include: ['test/worker/**/*.test.ts'],
    // Node side: decodes the samples with sharp and runs the model on tfjs cpu for parity.
    globalSetup: ['test/worker/global-setup.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    // The first request in workerd transforms tfjs (~7 s); the parity file classifies every sample.
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
}));
