import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

// Node-side checks that drive real `wrangler dev` processes (restarts, the CLIs against them).
// Run: `npx vitest run --config test/worker/vitest.e2e.config.ts` (needs a model, as the workerd tests).
export default defineConfig({
  root,
  test: {
    name: 'worker-e2e',
    root,
    include: ['test/worker/e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
