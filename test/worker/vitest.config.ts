import { defineConfig } from 'vitest/config';
import { root, workerdPlugin } from './workerd-plugin.ts';

// The Worker's tests run inside workerd (Miniflare) with the bindings of wrangler.toml:
// a real local R2 bucket and D1 database, fresh for each test file.
export default defineConfig(async () => ({
  root,
  plugins: [await workerdPlugin()],
  test: {
    name: 'worker',
    root,
    include: ['test/worker/**/*.test.ts'],
    exclude: ['test/worker/**/*.node.test.ts'],
    // Node side: decodes the samples with sharp and runs the model on tfjs cpu for parity.
    globalSetup: ['test/worker/global-setup.ts'],
    setupFiles: ['test/worker/apply-migrations.ts'],
    // The first request in workerd transforms tfjs (~7 s); the parity file classifies every sample.
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
}));
