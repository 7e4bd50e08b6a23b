import { fileURLToPath } from 'node:url';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

// `npm run test:stress`: the Worker in workerd (Miniflare) with real local R2 and D1, driven
// through its fetch handler: fuzz, auth, load, faults. Loopback only; bounded in count and time.
export default defineConfig(async () => ({
  root,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: `${root}wrangler.toml` },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations(`${root}migrations`),
          // The load phase is 8 clients flat out; the limits themselves are tested in test/worker.
          RATE_LIMIT_DEVICE_REQUESTS: '1000000',
          RATE_LIMIT_ADMIN_REQUESTS: '1000000',
          // Faults: a file altered in R2 is noticed within a second.
          MODEL_RECHECK_SECONDS: '1',
        },
      },
    }),
  ],
  test: {
    name: 'stress',
    root,
    include: ['test/stress/**/*.stress.ts'],
    globalSetup: ['test/worker/global-setup.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    provide: { stress: { seed: Number(process.env.STRESS_SEED ?? 20260508), loadSeconds: Number(process.env.STRESS_LOAD_SECONDS ?? 30) } },
    reporters: ['default', './test/stress/summary-reporter.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
}));
