import { defineConfig } from 'vitest/config';
import { root, workerdPlugin } from '../worker/workerd-plugin.ts';

// `npm run test:stress`: the Worker in workerd (Miniflare) with real local R2 and D1, driven
// through its fetch handler: fuzz, auth, load, faults. Loopback only; bounded in count and time.
export default defineConfig(async () => ({
  root,
  // Faults: a file altered in R2 is noticed within a second.
  plugins: [await workerdPlugin({ MODEL_RECHECK_SECONDS: '1' })],
  test: {
    name: 'stress',
    root,
    include: ['test/stress/**/*.stress.ts'],
    globalSetup: ['test/worker/global-setup.ts', 'test/stress/heavy-setup.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    provide: { stress: { seed: Number(process.env.STRESS_SEED ?? 20260508), loadSeconds: Number(process.env.STRESS_LOAD_SECONDS ?? 30) } },
    reporters: ['default', './test/stress/summary-reporter.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
}));
