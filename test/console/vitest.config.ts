import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('../..', import.meta.url));

// The lab console in a real browser (Debian's /usr/bin/chromium driven by playwright-core)
// against a real `wrangler dev`. Skipped, with a message, where that browser is absent.
// Run: `npx vitest run --config test/console/vitest.config.ts`; screenshots land in tmp/console-e2e/.
export default defineConfig({
  root,
  test: {
    name: 'console-e2e',
    root,
    include: ['test/console/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
